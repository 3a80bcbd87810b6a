"""Connection rules in one place: who may do what in which state, expiry, and the emails each change causes.

Every state change is a compare-and-set on (id, state, version) inside a write transaction that
also writes the change's emails and its AccessEvent: two racing actions give one winner, the
other gets `Conflict` ("this has changed, reload"), and exactly one set of emails is queued.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from src import outbox
from src.clock import utcnow
from src.tables.accounts import Account, Role
from src.tables.connections import AccessEvent, Connection, ConnectionState, SharedDocument
from src.tables.documents import Document

ACTIVE = ConnectionState.active.value
WAITING_TP = ConnectionState.awaiting_third_party.value
WAITING_LEARNER = ConnectionState.awaiting_learner.value
DEFAULT_DAYS = 30
MAX_DAYS = 365
OPEN_STATES = (WAITING_TP, WAITING_LEARNER, ACTIVE)


class Conflict(Exception):
    """Someone else changed this connection first; the page should be reloaded."""


class Refused(Exception):
    """The action is not allowed now; the message says why, in words for the person."""


# --- expiry: the one helper, and its query form -------------------------------------------------


def is_usable(connection: Connection | dict[str, Any], today: date) -> bool:
    """A connection gives access while it is active and today is on or before its end day."""
    get = connection.get if isinstance(connection, dict) else lambda k: getattr(connection, k)
    expires_on = get("expires_on")
    return get("state") == ACTIVE and expires_on is not None and today <= expires_on


def usable_where(today: date) -> Any:
    """The same rule as `is_usable`, for queries: apply it in every query that reads shared documents."""
    return (Connection.state == ACTIVE) & (Connection.expires_on >= today)


def check_end_date(expires_on: date | None, today: date, current: date | None = None) -> str | None:
    """Why an access end date is refused, or None."""
    if expires_on is None:
        return "Enter the date access ends"
    if expires_on < today:
        return "The date access ends must be today or in the future"
    if expires_on > today + timedelta(days=MAX_DAYS):
        return f"The date access ends must be within {MAX_DAYS} days of today"
    if current is not None and expires_on <= current:
        return "The new date must be later than the current end date"
    return None


# --- reading, always through the person's own side -----------------------------------------------


def mine(account: Account) -> Any:
    column = Connection.learner if account.role == Role.learner.value else Connection.third_party
    return column == account.id


async def connection_for(account: Account, connection_id: int) -> Connection | None:
    """The connection if this account is one of its two sides; otherwise None (the caller says 404)."""
    if account.role not in (Role.learner.value, Role.third_party.value):
        return None
    return await Connection.objects().where((Connection.id == connection_id) & mine(account)).first()


async def shared_documents(connection_id: int, account: Account, today: date) -> list[dict[str, Any]]:
    """Documents shared in a connection, as the given side may see them: for a third party only
    while the connection is usable (the rule is in the query itself)."""
    where = (SharedDocument.connection == connection_id) & (
        SharedDocument.connection.learner == account.id
        if account.role == Role.learner.value
        else (SharedDocument.connection.third_party == account.id)
        & (SharedDocument.connection.state == ACTIVE)
        & (SharedDocument.connection.expires_on >= today)
    )
    return (
        await SharedDocument.select(
            SharedDocument.document.id.as_alias("id"),
            SharedDocument.document.title.as_alias("title"),
            SharedDocument.document.kind.as_alias("kind"),
            SharedDocument.document.awarded_on.as_alias("awarded_on"),
            SharedDocument.document.valid_until.as_alias("valid_until"),
            SharedDocument.document.status.as_alias("status"),
            SharedDocument.document.certificate_number.as_alias("certificate_number"),
        )
        .where(where)
        .order_by(SharedDocument.document.awarded_on, ascending=False)
    )


async def own_documents(learner: Account, ids: list[int] | None = None) -> list[Document]:
    query = Document.objects().where(Document.owner == learner.id)
    if ids is not None:
        query = query.where(Document.id.is_in(ids or [-1]))
    return await query.order_by(Document.awarded_on, ascending=False)


# --- the compare-and-set and its side effects -------------------------------------------------


async def compare_and_set(connection: Connection, new_state: str, **values: Any) -> int:
    """Move the connection from the state and version we read; raises Conflict if someone else did first."""
    new_version = connection.version + 1
    changes: dict[Any, Any] = {
        Connection.state: new_state,
        Connection.version: new_version,
        Connection.updated_at: utcnow(),
    }
    changes.update({getattr(Connection, k): v for k, v in values.items()})
    won = (
        await Connection.update(changes)
        .where(
            (Connection.id == connection.id)
            & (Connection.state == connection.state)
            & (Connection.version == connection.version)
        )
        .returning(Connection.id)
    )
    if not won:
        raise Conflict()
    connection.state, connection.version = new_state, new_version
    for key, value in values.items():
        setattr(connection, key, value)
    return new_version


async def log_event(
    actor: Account | None,
    action: str,
    connection_id: int | None,
    document_id: int | None = None,
    detail: str = "",
) -> None:
    await AccessEvent.insert(
        AccessEvent(
            account=actor.id if actor else None,
            action=action,
            connection=connection_id,
            document=document_id,
            detail=detail[:200],
        )
    )


def display_name(account: Account | None, fallback_email: str = "") -> str:
    if account is None:
        return fallback_email
    return f"{account.first_name} {account.last_name}".strip()


async def live_account(account_id: int | None) -> Account | None:
    if account_id is None:
        return None
    return await Account.objects().where((Account.id == account_id) & Account.deleted_at.is_null()).first()


async def notify(
    connection: Connection, recipient: Account | None, template: str, key: str, **context: Any
) -> None:
    """Queue one email to a side of the connection that has an account (inside the caller's transaction)."""
    if recipient is None:
        return
    await outbox.enqueue(
        recipient.email,
        template,
        {"first_name": recipient.first_name, "connection_id": connection.id, **context},
        f"connection:{connection.id}:{key}:{recipient.id}",
    )


def date_text(value: date | None) -> str:
    return value.strftime("%-d %B %Y") if value else ""


async def set_documents(connection_id: int, documents: list[Document]) -> None:
    await SharedDocument.delete().where(SharedDocument.connection == connection_id)
    if documents:
        await SharedDocument.insert(
            *[SharedDocument(connection=connection_id, document=d.id) for d in documents]
        )


async def is_duplicate(
    learner_id: int | None, learner_email: str, tp_id: int | None, tp_email: str, today: date
) -> bool:
    learner_side = (
        (Connection.learner == learner_id) if learner_id else (Connection.learner_email == learner_email)
    )
    tp_side = (Connection.third_party == tp_id) if tp_id else (Connection.third_party_email == tp_email)
    open_now = Connection.state.is_in([WAITING_TP, WAITING_LEARNER]) | usable_where(today)
    return bool(await Connection.exists().where(learner_side & tp_side & open_now))


async def verified_account(email: str, role: Role) -> Account | None:
    return (
        await Account.objects()
        .where(
            (Account.email == email.lower())
            & (Account.role == role.value)
            & Account.email_verified_at.is_not_null()
            & Account.deleted_at.is_null()
        )
        .first()
    )
