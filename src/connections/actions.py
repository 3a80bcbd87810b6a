"""What the two sides do to a connection once it is open: accept, decline, cancel, extend, change
the shared documents. Each is one write transaction: compare-and-set, emails, AccessEvent. How a
connection opens (a share, a request, a waiting one attached) is in opening.py."""

from __future__ import annotations

from datetime import date
from typing import Any

from src import audit
from src.audit import AuditAction
from src.clock import long_date, utcnow
from src.connections.notify import notify
from src.connections.queries import live_account
from src.connections.rules import (
    ACTIVE,
    OFFER_OPEN,
    WAITING_LEARNER,
    WAITING_TP,
    check_end_date,
    display_name,
)
from src.db import compare_and_set, write_transaction
from src.documents import owned_by
from src.errors import Conflict, Refused
from src.tables.accounts import Account, Role
from src.tables.connections import (
    Connection,
    ConnectionState,
    ExtensionRequest,
    ExtensionState,
    SharedDocument,
)
from src.tables.documents import Document


async def advance(connection: Connection, new_state: str, **values: Any) -> int:
    """Move the connection on from the state and version we read, bumping the version; raises
    Conflict if someone else changed it first. `connection` is updated to match."""
    new_version = connection.version + 1
    changes: dict[Any, Any] = {
        Connection.state: new_state,
        Connection.version: new_version,
        Connection.updated_at: utcnow(),
        **{getattr(Connection, k): v for k, v in values.items()},
    }
    expected = {Connection.state: connection.state, Connection.version: connection.version}
    if not await compare_and_set(Connection, connection.id, expected, changes):
        raise Conflict()
    connection.state, connection.version = new_state, new_version
    for key, value in values.items():
        setattr(connection, key, value)
    return new_version


async def set_documents(connection_id: int, documents: list[Document]) -> None:
    await SharedDocument.delete().where(SharedDocument.connection == connection_id)
    if documents:
        await SharedDocument.insert(
            *[SharedDocument(connection=connection_id, document=d.id) for d in documents]
        )


async def chosen_documents(learner: Account, document_ids: list[int]) -> list[Document]:
    """The learner's own documents among those chosen; any id that is not theirs refuses the lot."""
    documents = await owned_by(learner, document_ids)
    if not documents or len(documents) != len(set(document_ids)):
        raise Refused("Choose at least one of your documents", "documents")
    return documents


async def accept_as_third_party(third_party: Account, connection: Connection, today: date) -> None:
    if connection.state != WAITING_TP:
        raise Conflict()
    if not OFFER_OPEN.holds(connection, today):
        raise Refused("The learner's offer ended before you accepted it. Ask them to share again")
    async with write_transaction():
        await advance(connection, ACTIVE)
        await notify(
            connection,
            await live_account(connection.learner),
            "connection_accepted",
            f"v{connection.version}",
            other_name=display_name(third_party),
            expires_on=long_date(connection.expires_on),
        )
        await audit.record(AuditAction.accepted, third_party, connection=connection.id)


async def accept_as_learner(
    learner: Account, connection: Connection, document_ids: list[int], expires_on: date, today: date
) -> None:
    if connection.state != WAITING_LEARNER:
        raise Conflict()
    problem = check_end_date(expires_on, today)
    if problem:
        raise Refused(problem, "expires_on")
    async with write_transaction():
        documents = await chosen_documents(learner, document_ids)
        await advance(connection, ACTIVE, expires_on=expires_on)
        await set_documents(connection.id, documents)
        await notify(
            connection,
            await live_account(connection.third_party),
            "connection_accepted",
            f"v{connection.version}",
            other_name=display_name(learner),
            expires_on=long_date(expires_on),
        )
        await audit.record(
            AuditAction.accepted, learner, connection=connection.id, detail=f"until {expires_on.isoformat()}"
        )


async def decline(actor: Account, connection: Connection) -> None:
    """The side that was asked says no."""
    asked = WAITING_TP if actor.role == Role.third_party.value else WAITING_LEARNER
    if connection.state != asked:
        raise Conflict()
    other_id = connection.learner if actor.role == Role.third_party.value else connection.third_party
    async with write_transaction():
        await advance(connection, ConnectionState.declined.value, open_pair=None)
        await notify(
            connection,
            await live_account(other_id),
            "connection_declined",
            f"v{connection.version}",
            other_name=display_name(actor),
        )
        await audit.record(AuditAction.declined, actor, connection=connection.id)


async def cancel(actor: Account, connection: Connection) -> None:
    """Either side ends a connection (or withdraws a request) at once; the other side is told."""
    if connection.state not in (WAITING_TP, WAITING_LEARNER, ACTIVE):
        raise Conflict()
    other_id = connection.learner if actor.role == Role.third_party.value else connection.third_party
    async with write_transaction():
        await advance(connection, ConnectionState.cancelled.value, cancelled_by=actor.id, open_pair=None)
        await ExtensionRequest.update({ExtensionRequest.state: ExtensionState.withdrawn.value}).where(
            (ExtensionRequest.connection == connection.id)
            & (ExtensionRequest.state == ExtensionState.pending.value)
        )
        await notify(
            connection,
            await live_account(other_id),
            "connection_cancelled",
            f"v{connection.version}",
            other_name=display_name(actor),
        )
        await audit.record(AuditAction.cancelled, actor, connection=connection.id)


async def extend(learner: Account, connection: Connection, expires_on: date, today: date) -> None:
    """The learner moves the end date later on their own; the third party is told the new date."""
    if connection.state != ACTIVE:
        raise Conflict()
    problem = check_end_date(expires_on, today, current=connection.expires_on)
    if problem:
        raise Refused(problem, "expires_on")
    async with write_transaction():
        await advance(connection, ACTIVE, expires_on=expires_on)
        await notify(
            connection,
            await live_account(connection.third_party),
            "connection_extended",
            f"v{connection.version}",
            other_name=display_name(learner),
            expires_on=long_date(expires_on),
        )
        await audit.record(
            AuditAction.extended, learner, connection=connection.id, detail=f"until {expires_on.isoformat()}"
        )


async def change_documents(learner: Account, connection: Connection, document_ids: list[int]) -> None:
    if connection.state not in (ACTIVE, WAITING_TP):
        raise Conflict()
    async with write_transaction():
        documents = await chosen_documents(learner, document_ids)
        await advance(connection, connection.state)
        await set_documents(connection.id, documents)
        await audit.record(
            AuditAction.changed_documents,
            learner,
            connection=connection.id,
            detail=f"{len(documents)} documents",
        )
