"""The sections about the person themselves: their profile, postal addresses and other contact
details, and the emails sent to the addresses they hold."""

from __future__ import annotations

from typing import Any

from src.exports.sections.section import Reader, Rows, Section, Window, columns_of
from src.mail import render_subject
from src.tables.accounts import Account, Address, ContactDetail, EmailAddress
from src.tables.outbox import OutboxEmail

PROFILE_COLUMNS = (
    "id",
    "role",
    "username",
    "email",
    "second_email",
    "first_name",
    "middle_name",
    "last_name",
    "phone",
    "company_name",
    "job_title",
    "date_of_birth",
    "enrolment_number",
    "uln",
    "email_verified_at",
    "password_changed_at",
    "last_login_at",
    "two_step_since",
    "weekly_views_email",
    "created_at",
)


async def _profile(person: Account, reader: Reader, window: Window) -> Rows:
    if window.after >= person.id:
        return []
    return [{column: getattr(person, column) for column in PROFILE_COLUMNS}]


PROFILE = Section("profile", "your personal details", PROFILE_COLUMNS, _profile)


ADDRESS_COLUMNS = (
    Address.id,
    Address.line1,
    Address.line2,
    Address.town,
    Address.postcode,
    Address.country,
    Address.is_billing,
    Address.is_delivery,
    Address.created_at,
)


async def _addresses(person: Account, reader: Reader, window: Window) -> Rows:
    query = Address.select(*ADDRESS_COLUMNS).where(Address.account == person.id)
    return await window.of(query, Address.id)  # type: ignore[no-any-return]


ADDRESSES = Section("addresses", "your postal addresses", columns_of(*ADDRESS_COLUMNS), _addresses)


async def _contacts(person: Account, reader: Reader, window: Window) -> Rows:
    query = ContactDetail.select(
        ContactDetail.id,
        ContactDetail.kind,
        ContactDetail.value,
        ContactDetail.label,
        ContactDetail.created_at,
    ).where(ContactDetail.account == person.id)
    return await window.of(query, ContactDetail.id)  # type: ignore[no-any-return]


CONTACTS = Section(
    "contacts",
    "your additional contact information",
    ("id", "kind", "value", "label", "created_at"),
    _contacts,
)


async def _emails(person: Account, reader: Reader, window: Window) -> Rows:
    """The emails queued for the addresses the account holds, since it has held each."""
    held = await EmailAddress.select(EmailAddress.email, EmailAddress.claimed_at).where(
        EmailAddress.account == person.id
    )
    if not held:
        return []
    theirs: Any = None
    for address in held:
        since = (OutboxEmail.recipient == address["email"]) & (
            OutboxEmail.created_at >= address["claimed_at"]
        )
        theirs = since if theirs is None else theirs | since
    rows = await window.of(OutboxEmail.objects().where(theirs), OutboxEmail.id)
    return [
        {
            "id": row.id,
            "queued_at": row.created_at,
            "sent_at": row.sent_at,
            "to": row.recipient,
            "subject": render_subject(reader.templates, row, reader.settings),
            "state": row.state,
        }
        for row in rows
    ]


EMAILS = Section(
    "emails",
    "the emails we sent to your addresses while they were yours: when, and the subject",
    ("id", "queued_at", "sent_at", "to", "subject", "state"),
    _emails,
)
