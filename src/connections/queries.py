"""Reading connections, always through the person's own side: one connection and its shared
documents (the list is in listing.py, the counts in counts.py, the learner's activity log in
activity.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

from src.connections.rules import WAITING_LEARNER, WAITING_TP, usable_where
from src.tables.accounts import Account, Role
from src.tables.connections import Connection, SharedDocument
from src.tables.documents import Document

# --- one connection and what it shares ------------------------------------------------------


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
        & usable_where(today, SharedDocument.connection)
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


async def shared_document(
    third_party: Account, connection_id: int, document_id: int, today: date
) -> tuple[Connection, Document] | None:
    """A document as a third party may open it: shared in their connection while that connection is
    usable (the rule is in the query itself). Anything else is None, and the caller says 404."""
    if third_party.role != Role.third_party.value:
        return None
    shared_in = SharedDocument.select(SharedDocument.connection).where(SharedDocument.document == document_id)
    connection = (
        await Connection.objects()
        .where(
            (Connection.id == connection_id)
            & (Connection.third_party == third_party.id)
            & usable_where(today)
            & Connection.id.is_in(shared_in)
        )
        .first()
    )
    if connection is None:
        return None
    document = await Document.objects().where(Document.id == document_id).first()
    if document is None:
        return None
    return connection, document


async def live_account(account_id: int | None) -> Account | None:
    return await Account.by_id(account_id)


async def verified_account(email: str, role: Role) -> Account | None:
    account = await Account.by_email(email)
    if account is None or account.deleted_at is not None:
        return None
    return account if account.role == role.value and account.email_verified_at is not None else None


async def is_duplicate(
    learner_id: int | None, learner_email: str, tp_id: int | None, tp_email: str, today: date
) -> bool:
    learner_side = (
        (Connection.learner == learner_id) if learner_id else (Connection.learner_email == learner_email)
    )
    tp_side = (Connection.third_party == tp_id) if tp_id else (Connection.third_party_email == tp_email)
    open_now = Connection.state.is_in([WAITING_TP, WAITING_LEARNER]) | usable_where(today)
    return bool(await Connection.exists().where(learner_side & tp_side & open_now))
