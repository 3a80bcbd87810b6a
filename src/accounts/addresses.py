"""Extra contact details and postal addresses of an account, each only ever reached through its owner."""

from __future__ import annotations

from src.accounts.forms import check_address, check_contact
from src.forms import Form
from src.tables.accounts import Account, Address, ContactDetail

MAX_CONTACTS = 20
MAX_ADDRESSES = 20


async def contacts_of(account: Account) -> list[ContactDetail]:
    return await ContactDetail.objects().where(ContactDetail.account == account.id).order_by(ContactDetail.id)


async def add_contact(account: Account, form: Form) -> None:
    """Add a contact detail from the submitted form; problems are recorded on the form."""
    contact = check_contact(form)
    if len(await contacts_of(account)) >= MAX_CONTACTS:
        form.error("value", f"You can keep up to {MAX_CONTACTS} extra contact details. Remove one first")
    if contact is not None and form.ok:
        kind, value, label = contact
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


async def save_address(account: Account, form: Form, address: Address | None = None) -> None:
    values = check_address(form)
    if address is None and len(await addresses_of(account)) >= MAX_ADDRESSES:
        form.error("line1", f"You can keep up to {MAX_ADDRESSES} addresses. Remove one first")
    if values is None or not form.ok:
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
