"""Profile: personal details; an email change waits for the new address to be verified."""

from __future__ import annotations

from typing import Any

from src.accounts.registration import email_taken, username_taken
from src.clock import utcnow
from src.connections import attach_pending
from src.db import unique_violation, write_transaction
from src.forms import USERNAME_RE, Form, parse_date
from src.mail import enqueue, minute_key
from src.tables.accounts import Account
from src.tokens import VERIFY_EMAIL_MAX_AGE, TokenError, Tokens

DETAIL_FIELDS = ("first_name", "middle_name", "last_name", "username", "phone", "company_name", "job_title")


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
    elif username and username.lower() != account.username_key and await username_taken(username):
        form.error("username", "This user name is taken. Choose another")
    email = form.email("email")
    changes: dict[Any, Any] = {
        Account.first_name: first_name,
        Account.middle_name: middle_name,
        Account.last_name: last_name,
        Account.date_of_birth: parse_date(
            form, "dob", "your date of birth", past="Date of birth must be in the past"
        ),
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
                await enqueue(
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
        await Account.update({Account.email: data["e"], Account.email_verified_at: utcnow()}).where(
            Account.id == account.id
        )
        account.email = data["e"]
        await attach_pending(account)
        await enqueue(
            data["old"],  # the notice goes to the address that was just replaced
            "email_changed",
            {"first_name": account.first_name, "new_email": data["e"]},
            f"email-changed:{account.id}:{data['e']}",
        )
    return account
