"""Profile rules: personal details (an email change waits for the new address to be verified),
extra contact details and postal addresses, each only ever reached through its owner."""

from __future__ import annotations

from typing import Any

from src import accounts, outbox
from src.accounts import email_taken, minute_key, now
from src.connection_actions import attach_pending
from src.db import unique_violation, write_transaction
from src.forms import USERNAME_RE, Form, parse_date
from src.tables.accounts import Account, Address, ContactDetail
from src.tokens import VERIFY_EMAIL_MAX_AGE, TokenError, Tokens

DETAIL_FIELDS = ("first_name", "middle_name", "last_name", "username", "phone", "company_name", "job_title")
MAX_CONTACTS = 20
MAX_ADDRESSES = 20


def details_values(account: Account) -> dict[str, str]:
    values = {name: str(getattr(account, name) or "") for name in DETAIL_FIELDS}
    values["email"] = account.email
    if account.date_of_birth:
        born = account.date_of_birth
        values.update({"dob-day": str(born.day), "dob-month": str(born.month), "dob-year": str(born.year)})
    return values


async def update_details(tokens: Tokens, account: Account, form: Form) -> str | None:
    """Save personal details. Returns the new email address if one now waits for verification."""
    # Checked in page order, so the error summary lists problems in the order of the fields.
    first_name = form.required("first_name", "Enter your first name")
    middle_name = form.optional("middle_name", 100)
    last_name = form.required("last_name", "Enter your last name")
    username = form.required("username", "Enter a user name", 40)
    if username and not USERNAME_RE.match(username):
        form.error("username", "User name must be 3 to 40 letters, numbers, dots, dashes or underscores")
    elif username and username.lower() != account.username_key and await accounts.username_taken(username):
        form.error("username", "This user name is taken. Choose another")
    email = form.email("email")
    changes: dict[Any, Any] = {
        Account.first_name: first_name,
        Account.middle_name: middle_name,
        Account.last_name: last_name,
        Account.date_of_birth: parse_date(form, "dob", "your date of birth"),
        Account.phone: form.optional("phone", 40),
        Account.company_name: form.optional("company_name"),
        Account.job_title: form.optional("job_title"),
    }
    if not form.ok:
        return None
    changes[Account.username] = username
    changes[Account.username_key] = username.lower()
    pending = email if email != account.email else None
    try:
        async with write_transaction():
            await Account.update(changes).where(Account.id == account.id)
            if pending and not await email_taken(pending):
                token = tokens.sign("change-email", {"a": account.id, "old": account.email, "e": pending})
                await outbox.enqueue(
                    pending,
                    "confirm_email_change",
                    {
                        "first_name": form.get("first_name"),
                        "path": f"/profile/email/{token}",
                        "hours": VERIFY_EMAIL_MAX_AGE // 3600,
                    },
                    f"email-change:{account.id}:{pending}:{minute_key()}",
                )
    except Exception as exc:
        if unique_violation(exc) != "username_key":
            raise
        form.error("username", "This user name is taken. Choose another")
        return None
    return pending


async def confirm_email_change(tokens: Tokens, token: str) -> Account:
    data = tokens.load("change-email", token, max_age=VERIFY_EMAIL_MAX_AGE)
    async with write_transaction():
        account = (
            await Account.objects()
            .where((Account.id == data.get("a")) & Account.deleted_at.is_null())
            .first()
        )
        if account is None:
            raise TokenError("invalid")
        if account.email != data.get("old"):
            raise TokenError("used")
        if await email_taken(data["e"]):
            raise TokenError("invalid")
        await Account.update({Account.email: data["e"], Account.email_verified_at: now()}).where(
            Account.id == account.id
        )
        account.email = data["e"]
        await attach_pending(account)
        await outbox.enqueue(
            data["old"],  # the notice goes to the address that was just replaced
            "email_changed",
            {"first_name": account.first_name, "new_email": data["e"]},
            f"email-changed:{account.id}:{data['e']}",
        )
    return account


async def contacts_of(account: Account) -> list[ContactDetail]:
    return await ContactDetail.objects().where(ContactDetail.account == account.id).order_by(ContactDetail.id)


async def add_contact(account: Account, form: Form) -> None:
    kind = form.get("kind")
    if kind not in {"phone", "email"}:
        form.error("kind", "Choose phone or email")
    if kind == "email":
        value = form.email("value")
    else:
        value = form.required("value", "Enter the phone number", 40)
    label = form.optional("label", 60)
    if len(await contacts_of(account)) >= MAX_CONTACTS:
        form.error("value", f"You can keep up to {MAX_CONTACTS} extra contact details. Remove one first")
    if form.ok:
        await ContactDetail.insert(ContactDetail(account=account.id, kind=kind, value=value, label=label))


async def remove_contact(account: Account, contact_id: int) -> bool:
    """False when there is no such contact detail of this account (the caller answers 404)."""
    deleted = (
        await ContactDetail.delete()
        .where((ContactDetail.id == contact_id) & (ContactDetail.account == account.id))
        .returning(ContactDetail.id)
    )
    return bool(deleted)


async def addresses_of(account: Account) -> list[Address]:
    return await Address.objects().where(Address.account == account.id).order_by(Address.id)


async def address_of(account: Account, address_id: int) -> Address | None:
    return await Address.objects().where((Address.id == address_id) & (Address.account == account.id)).first()


def check_address(form: Form) -> dict[Any, Any]:
    return {
        Address.line1: form.required("line1", "Enter the first line of the address", 200),
        Address.line2: form.optional("line2", 200),
        Address.town: form.required("town", "Enter the town or city"),
        Address.postcode: form.required("postcode", "Enter the postcode", 20).upper(),
        Address.country: form.get("country") or "United Kingdom",
        Address.is_billing: form.get("is_billing") == "yes",
        Address.is_delivery: form.get("is_delivery") == "yes",
    }


async def save_address(account: Account, form: Form, address: Address | None = None) -> None:
    values = check_address(form)
    form.optional("country", 100)
    if address is None and len(await addresses_of(account)) >= MAX_ADDRESSES:
        form.error("line1", f"You can keep up to {MAX_ADDRESSES} addresses. Remove one first")
    if not form.ok:
        return
    if address is None:
        await Address.insert(Address(account=account.id, **{col._meta.name: v for col, v in values.items()}))
    else:
        await Address.update(values).where((Address.id == address.id) & (Address.account == account.id))


async def remove_address(account: Account, address_id: int) -> bool:
    deleted = (
        await Address.delete()
        .where((Address.id == address_id) & (Address.account == account.id))
        .returning(Address.id)
    )
    return bool(deleted)


def address_values(address: Address) -> dict[str, str]:
    return {
        "line1": address.line1,
        "line2": address.line2,
        "town": address.town,
        "postcode": address.postcode,
        "country": address.country,
        "is_billing": "yes" if address.is_billing else "",
        "is_delivery": "yes" if address.is_delivery else "",
    }
