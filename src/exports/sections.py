"""What a person's data download holds, one section (a table) at a time: the person's own rows of
every kind, read for that person only. Each section names its columns, so its CSV file always has
the same header, also when it has no rows; its JSON file has the same rows (and, for documents,
the frozen content as issued, which a spreadsheet row cannot hold).

Everything is read by the person's account id (or, for emails, by the addresses the account holds
and since when it holds them), so no row of anyone else's can be in it: a row about someone else
appears only where it is also the person's (the other side of their own connection).

A section is read a page at a time, in id order (a `Window`: after one id, up to another), so a
third party with ten thousand connections and their events is never held in memory whole."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from src.audit import AuditAction
from src.clock import utcnow
from src.documents import printed, standing, verify_url
from src.mail import render_subject
from src.tables.accounts import Account, Address, ContactDetail, EmailAddress, Role
from src.tables.connections import AccessEvent, Connection, ExtensionRequest, SharedDocument
from src.tables.documents import Document, VerifyTally
from src.tables.outbox import OutboxEmail
from src.tables.printing import PrintOrder
from src.tables.reports import Report

Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class Reader:
    """What the sections need besides the person: the site's settings and the email templates."""

    settings: Any  # src.settings.Settings
    templates: Any  # the app's template engine, for the subjects of emails sent

    @property
    def staff_name(self) -> str:
        return f"Staff of {self.settings.org_name}"


@dataclass(frozen=True)
class Window:
    """One page of a section: rows with an id above `after` and at most `until` (None: no bound),
    at most `size` of them, in id order."""

    after: int
    until: int | None
    size: int

    def of(self, query: Any, id_column: Any) -> Any:
        query = query.where(id_column > self.after)
        if self.until is not None:
            query = query.where(id_column <= self.until)
        return query.order_by(id_column).limit(self.size)


@dataclass(frozen=True)
class Section:
    name: str
    title: str  # what the README says the file holds
    columns: tuple[str, ...]
    read: Callable[[Account, Reader, Window], Awaitable[Rows]]  # rows with an "id", in id order


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


async def _addresses(person: Account, reader: Reader, window: Window) -> Rows:
    query = Address.select(*ADDRESS_COLUMNS).where(Address.account == person.id)
    return await window.of(query, Address.id)  # type: ignore[no-any-return]


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


async def _contacts(person: Account, reader: Reader, window: Window) -> Rows:
    query = ContactDetail.select(
        ContactDetail.id,
        ContactDetail.kind,
        ContactDetail.value,
        ContactDetail.label,
        ContactDetail.created_at,
    ).where(ContactDetail.account == person.id)
    return await window.of(query, ContactDetail.id)  # type: ignore[no-any-return]


async def _documents(person: Account, reader: Reader, window: Window) -> Rows:
    if person.role != Role.learner.value:
        return []
    query = Document.select(*Document.all_columns(exclude=[Document.revoked_note])).where(
        Document.owner == person.id
    )
    documents = await window.of(query, Document.id).output(load_json=True)
    today = _today(reader)
    return [
        {
            "id": d["id"],
            "kind": d["kind"],
            "title": d["title"],
            "qualification_code": d["qualification_code"],
            "level": d["level"],
            "name_as_printed": d["name_as_printed"],
            "grade": d["grade"],
            "awarded_on": d["awarded_on"],
            "valid_until": d["valid_until"],
            "certificate_number": d["certificate_number"],
            "verify_code": printed(d["verify_code"]),
            "verify_address": verify_url(reader.settings.verify_base, d["verify_code"]),
            "status": standing(d, today, reader.settings.tz).words,
            "revoked_at": d["revoked_at"],
            "revoked_reason": d["revoked_reason"],
            "superseded_by": d["superseded_by"],
            "superseded_at": d["superseded_at"],
            "show_on_verify_page": d["show_on_verify"],
            "issued_at": d["created_at"],
            "content_sha256": d["content_sha256"],
            "template_version": d["template_version"],
            "content": d["content"],  # JSON only (see Section.columns)
        }
        for d in documents
    ]


def _today(reader: Reader) -> Any:
    return utcnow().astimezone(reader.settings.tz).date()


def _on_their_connection(connection: Any, person: Account) -> Any:
    """Rows whose connection (a foreign key, joined) is one of the person's, on either side."""
    return (connection.learner == person.id) | (connection.third_party == person.id)


def _name(first: str | None, last: str | None, company: str | None = None) -> str:
    name = " ".join(part for part in (first, last) if part)
    return f"{name} ({company})" if name and company else name


async def _connections(person: Account, reader: Reader, window: Window) -> Rows:
    query = Connection.select(
        *Connection.all_columns(exclude=[Connection.open_pair, Connection.version]),
        Connection.learner.first_name.as_alias("learner_first"),
        Connection.learner.last_name.as_alias("learner_last"),
        Connection.third_party.first_name.as_alias("tp_first"),
        Connection.third_party.last_name.as_alias("tp_last"),
        Connection.third_party.company_name.as_alias("tp_company"),
    ).where((Connection.learner == person.id) | (Connection.third_party == person.id))
    rows = await window.of(query, Connection.id)
    shared: dict[int, list[str]] = {}
    if rows:
        for item in await SharedDocument.select(
            SharedDocument.connection,
            SharedDocument.document,
            SharedDocument.document.title.as_alias("title"),
        ).where(SharedDocument.connection.is_in([row["id"] for row in rows])):
            shared.setdefault(item["connection"], []).append(f"{item['document']}: {item['title']}")
    out = []
    for row in rows:
        as_learner = row["learner"] == person.id
        out.append(
            {
                "id": row["id"],
                "you_are": "learner" if as_learner else "third party",
                "other_side": _name(row["tp_first"], row["tp_last"], row["tp_company"])
                if as_learner
                else _name(row["learner_first"], row["learner_last"]),
                "other_side_email": row["third_party_email"] if as_learner else row["learner_email"],
                "started_by": row["started_by"].replace("_", " "),
                "state": row["state"].replace("_", " "),
                "access_ends_on": row["expires_on"],
                "message": row["message"],
                "shared_documents": "; ".join(shared.get(row["id"], [])),
                "created_at": row["created_at"],
                "updated_at": row["updated_at"],
            }
        )
    return out


def _who(person: Account, reader: Reader, row: dict[str, Any]) -> str:
    if row["account"] is None:
        return ""
    if row["account"] == person.id:
        return "you"
    if row["role"] == Role.staff.value:
        return reader.staff_name
    return _name(row["first_name"], row["last_name"], row["company"])


EVENT_FIELDS = (
    AccessEvent.id,
    AccessEvent.at,
    AccessEvent.action,
    AccessEvent.account,
    AccessEvent.account.role.as_alias("role"),
    AccessEvent.account.first_name.as_alias("first_name"),
    AccessEvent.account.last_name.as_alias("last_name"),
    AccessEvent.account.company_name.as_alias("company"),
    AccessEvent.connection,
    AccessEvent.document,
    AccessEvent.document.title.as_alias("document_title"),
    AccessEvent.detail,
)


async def _events(person: Account, reader: Reader, window: Window) -> Rows:
    """Every event the person did, every event on their connections, and every event on their
    documents (their issue, a change of status, a printed duplicate, a view)."""
    mine: Any = (AccessEvent.account == person.id) | _on_their_connection(AccessEvent.connection, person)
    if person.role == Role.learner.value:
        mine = mine | (AccessEvent.document.owner == person.id)
    rows = await window.of(AccessEvent.select(*EVENT_FIELDS).where(mine), AccessEvent.id)
    return [
        {
            "id": row["id"],
            "at": row["at"],
            "what": row["action"].replace("_", " "),
            "who": _who(person, reader, row),
            "connection": row["connection"],
            "document": row["document"],
            "document_title": row["document_title"],
            "detail": row["detail"],
        }
        for row in rows
    ]


OWNER: Any = AccessEvent.document.owner  # the learner whose document was viewed


async def _views(person: Account, reader: Reader, window: Window) -> Rows:
    """A learner: each view of their documents, by whom. A third party: each view they made."""
    viewed = AccessEvent.action == AuditAction.viewed_document.value
    if person.role == Role.learner.value:
        query = AccessEvent.select(*EVENT_FIELDS).where(viewed & (AccessEvent.document.owner == person.id))
    else:
        query = AccessEvent.select(
            *EVENT_FIELDS,
            OWNER.first_name.as_alias("owner_first"),
            OWNER.last_name.as_alias("owner_last"),
        ).where(viewed & (AccessEvent.account == person.id))
    return [
        {
            "id": row["id"],
            "at": row["at"],
            "document": row["document"],
            "document_title": row["document_title"],
            "seen_by": _who(person, reader, row),
            "learner": _name(row.get("owner_first"), row.get("owner_last")) or "you",
            "connection": row["connection"],
        }
        for row in await window.of(query, AccessEvent.id)
    ]


async def _verify_checks(person: Account, reader: Reader, window: Window) -> Rows:
    if person.role != Role.learner.value:
        return []
    query = VerifyTally.select(
        VerifyTally.id,
        VerifyTally.document,
        VerifyTally.document.title.as_alias("document_title"),
        VerifyTally.day,
        VerifyTally.checks,
        VerifyTally.last_at,
    ).where(VerifyTally.document.owner == person.id)
    return await window.of(query, VerifyTally.id)  # type: ignore[no-any-return]


async def _extension_requests(person: Account, reader: Reader, window: Window) -> Rows:
    query = ExtensionRequest.select(*ExtensionRequest.all_columns()).where(
        _on_their_connection(ExtensionRequest.connection, person)
    )
    rows = await window.of(query, ExtensionRequest.id)
    return [
        {
            "id": row["id"],
            "connection": row["connection"],
            "asked_by": "you" if row["requested_by"] == person.id else "the other side",
            "wanted_until": row["wanted_until"],
            "message": row["message"],
            "state": row["state"],
            "decided_at": row["decided_at"],
            "new_access_end": row["new_expiry"],
            "created_at": row["created_at"],
        }
        for row in rows
    ]


async def _reports(person: Account, reader: Reader, window: Window) -> Rows:
    query = Report.select(
        Report.id,
        Report.document,
        Report.document.title.as_alias("document_title"),
        Report.category,
        Report.message,
        Report.state,
        Report.answer,
        Report.answered_at,
        Report.closed_at,
        Report.created_at,
    ).where(Report.reporter == person.id)
    return await window.of(query, Report.id)  # type: ignore[no-any-return]


async def _print_orders(person: Account, reader: Reader, window: Window) -> Rows:
    query = PrintOrder.select(
        PrintOrder.id,
        PrintOrder.document,
        PrintOrder.document.title.as_alias("document_title"),
        PrintOrder.state,
        PrintOrder.delivery_address,
        PrintOrder.billing_address,
        PrintOrder.created_at,
        PrintOrder.printed_at,
        PrintOrder.dispatched_at,
        PrintOrder.cancelled_at,
    ).where(PrintOrder.learner == person.id)
    return await window.of(query, PrintOrder.id).output(load_json=True)  # type: ignore[no-any-return]


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


def _columns(*names: Any) -> tuple[str, ...]:
    return tuple(name if isinstance(name, str) else name._meta.name for name in names)


SECTIONS = (
    Section("profile", "your personal details", PROFILE_COLUMNS, _profile),
    Section("addresses", "your postal addresses", _columns(*ADDRESS_COLUMNS), _addresses),
    Section(
        "contacts",
        "your additional contact information",
        ("id", "kind", "value", "label", "created_at"),
        _contacts,
    ),
    Section(
        "documents",
        "your documents as issued: their facts, verify codes and addresses, and status today "
        "(the JSON file also holds each document's content exactly as it was issued)",
        (
            "id",
            "kind",
            "title",
            "qualification_code",
            "level",
            "name_as_printed",
            "grade",
            "awarded_on",
            "valid_until",
            "certificate_number",
            "verify_code",
            "verify_address",
            "status",
            "revoked_at",
            "revoked_reason",
            "superseded_by",
            "superseded_at",
            "show_on_verify_page",
            "issued_at",
            "content_sha256",
            "template_version",
        ),
        _documents,
    ),
    Section(
        "connections",
        "your connections, with the other side and the documents shared",
        (
            "id",
            "you_are",
            "other_side",
            "other_side_email",
            "started_by",
            "state",
            "access_ends_on",
            "message",
            "shared_documents",
            "created_at",
            "updated_at",
        ),
        _connections,
    ),
    Section(
        "extension_requests",
        "requests for more time on your connections",
        (
            "id",
            "connection",
            "asked_by",
            "wanted_until",
            "message",
            "state",
            "decided_at",
            "new_access_end",
            "created_at",
        ),
        _extension_requests,
    ),
    Section(
        "events",
        "everything recorded about your connections and documents, and what you did: who, what and when",
        ("id", "at", "what", "who", "connection", "document", "document_title", "detail"),
        _events,
    ),
    Section(
        "views",
        "views of your documents by the people you shared them with (for a third party: the views you made)",
        ("id", "at", "document", "document_title", "seen_by", "learner", "connection"),
        _views,
    ),
    Section(
        "verify_checks",
        "how many times a day each of your documents was checked on the verify page (nothing about who checked)",
        ("id", "document", "document_title", "day", "checks", "last_at"),
        _verify_checks,
    ),
    Section(
        "reports",
        "the problems you reported, and the answers",
        (
            "id",
            "document",
            "document_title",
            "category",
            "message",
            "state",
            "answer",
            "answered_at",
            "closed_at",
            "created_at",
        ),
        _reports,
    ),
    Section(
        "print_orders",
        "your orders of printed copies",
        (
            "id",
            "document",
            "document_title",
            "state",
            "delivery_address",
            "billing_address",
            "created_at",
            "printed_at",
            "dispatched_at",
            "cancelled_at",
        ),
        _print_orders,
    ),
    Section(
        "emails",
        "the emails we sent to your addresses while they were yours: when, and the subject",
        ("id", "queued_at", "sent_at", "to", "subject", "state"),
        _emails,
    ),
)
