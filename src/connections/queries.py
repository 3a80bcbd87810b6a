"""Reading connections, always through the person's own side: one connection, its shared
documents, the filtered, searched, paginated list and the dashboard counts.

The list and counts are indexed queries limited to one page, so a third party with 10,000
connections gets their page as fast as one with 10.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from piccolo.query.functions.aggregate import Count

from src.connections.rules import ACTIVE, WAITING_LEARNER, WAITING_TP, usable_where
from src.documents import CHECKED_ACTION
from src.forms import Paging
from src.tables.accounts import Account, Role
from src.tables.connections import AccessEvent, Connection, ConnectionState, ExtensionRequest, SharedDocument
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
    if account_id is None:
        return None
    return await Account.objects().where((Account.id == account_id) & Account.deleted_at.is_null()).first()


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


async def is_duplicate(
    learner_id: int | None, learner_email: str, tp_id: int | None, tp_email: str, today: date
) -> bool:
    learner_side = (
        (Connection.learner == learner_id) if learner_id else (Connection.learner_email == learner_email)
    )
    tp_side = (Connection.third_party == tp_id) if tp_id else (Connection.third_party_email == tp_email)
    open_now = Connection.state.is_in([WAITING_TP, WAITING_LEARNER]) | usable_where(today)
    return bool(await Connection.exists().where(learner_side & tp_side & open_now))


# --- lists and counts ------------------------------------------------------------------------

PAGE_SIZE = 25
FILTERS = {
    "all": "All",
    "waiting": "Waiting",
    "active": "Active",
    "ended": "Ended",
}


def filter_where(name: str, today: date) -> Any:
    if name == "waiting":
        return Connection.state.is_in([WAITING_TP, WAITING_LEARNER])
    if name == "active":
        return usable_where(today)
    if name == "ended":
        return Connection.state.is_in([ConnectionState.declined.value, ConnectionState.cancelled.value]) | (
            (Connection.state == ACTIVE) & (Connection.expires_on < today)
        )
    return None


def _columns() -> list[Any]:
    return [
        Connection.id,
        Connection.state,
        Connection.expires_on,
        Connection.started_by,
        Connection.created_at,
        Connection.learner_email,
        Connection.third_party_email,
        Connection.version,
        Connection.learner.first_name.as_alias("learner_first"),
        Connection.learner.last_name.as_alias("learner_last"),
        Connection.third_party.first_name.as_alias("tp_first"),
        Connection.third_party.last_name.as_alias("tp_last"),
        Connection.third_party.company_name.as_alias("tp_company"),
    ]


def _search_where(account: Account, q: str) -> Any:
    """Search the other side by name or email. Names are matched in a sub-select on accounts, so the
    database can answer it from an index (trigram indexes on PostgreSQL) instead of joining every one
    of the account's connections to their learner first."""
    like = f"%{q}%"
    if account.role == Role.third_party.value:
        # Names only where the page shows them (see other_name): the learner has acted on the connection.
        learner_acted = (
            (Connection.started_by == "learner")
            | Connection.expires_on.is_not_null()
            | (Connection.state == ConnectionState.declined.value)
        )
        by_name = Account.select(Account.id).where(
            Account.first_name.ilike(like) | Account.last_name.ilike(like)
        )
        return (Connection.learner.is_in(by_name) & learner_acted) | Connection.learner_email.ilike(like)
    by_name = Account.select(Account.id).where(
        Account.first_name.ilike(like) | Account.last_name.ilike(like) | Account.company_name.ilike(like)
    )
    return Connection.third_party.is_in(by_name) | Connection.third_party_email.ilike(like)


@dataclass
class ConnectionPage:
    rows: list[dict[str, Any]]
    page: int
    has_next: bool
    state: str
    q: str


async def list_page(
    account: Account, today: date, state: str = "all", q: str = "", page: int = 1
) -> ConnectionPage:
    state = state if state in FILTERS else "all"
    paging = Paging.of(page, PAGE_SIZE, last=100_000)
    q = q.strip()[:100]
    query = Connection.select(*_columns()).where(mine(account))
    condition = filter_where(state, today)
    if condition is not None:
        query = query.where(condition)
    if q:
        query = query.where(_search_where(account, q))
    rows, has_next = paging.cut(await paging.apply(query.order_by(Connection.id, ascending=False)))
    await annotate(rows)
    return ConnectionPage(rows=rows, page=paging.page, has_next=has_next, state=state, q=q)


async def annotate(rows: list[dict[str, Any]]) -> None:
    """Add each row's number of shared documents and whether an extension request is pending (two queries)."""
    ids = [row["id"] for row in rows]
    counts: dict[int, int] = {}
    pending: set[int] = set()
    if ids:
        for item in (
            await SharedDocument.select(SharedDocument.connection, Count(SharedDocument.id, alias="n"))
            .where(SharedDocument.connection.is_in(ids))
            .group_by(SharedDocument.connection)
        ):
            counts[item["connection"]] = item["n"]
        for item in await ExtensionRequest.select(ExtensionRequest.connection).where(
            ExtensionRequest.connection.is_in(ids) & (ExtensionRequest.state == "pending")
        ):
            pending.add(item["connection"])
    for row in rows:
        row["documents"] = counts.get(row["id"], 0)
        row["extension_pending"] = row["id"] in pending


async def one_row(account: Account, connection_id: int) -> dict[str, Any] | None:
    rows = await Connection.select(*_columns()).where((Connection.id == connection_id) & mine(account))
    await annotate(rows)
    return rows[0] if rows else None


@dataclass
class Counts:
    waiting_for_me: int
    waiting_for_them: int
    active: int
    ending_soon: list[dict[str, Any]]
    extensions_waiting: int = 0


async def counts_for(account: Account, today: date) -> Counts:
    """What the dashboard shows: requests that wait for this person, active connections, and those ending
    within 30 days."""
    asked_me = WAITING_TP if account.role == Role.third_party.value else WAITING_LEARNER
    asked_them = WAITING_LEARNER if account.role == Role.third_party.value else WAITING_TP
    waiting_for_me = await Connection.count().where(mine(account) & (Connection.state == asked_me))
    waiting_for_them = await Connection.count().where(mine(account) & (Connection.state == asked_them))
    active = await Connection.count().where(mine(account) & usable_where(today))
    ending = (
        await Connection.select(*_columns())
        .where(mine(account) & usable_where(today) & (Connection.expires_on <= today + timedelta(days=30)))
        .order_by(Connection.expires_on)
        .limit(10)
    )
    extensions = 0
    if account.role == Role.learner.value:
        extensions = await ExtensionRequest.count().where(
            (ExtensionRequest.connection.learner == account.id) & (ExtensionRequest.state == "pending")
        )
    return Counts(waiting_for_me, waiting_for_them, active, ending, extensions)


# --- the learner's activity log ----------------------------------------------------------------

ACTIVITY_PAGE = 50


@dataclass
class ActivityPage:
    events: list[dict[str, Any]]
    page: int
    has_next: bool


async def activity_page(learner: Account, page: int = 1) -> ActivityPage:
    """Who did what and when on the learner's connections and documents' verify pages, newest first."""
    paging = Paging.of(page, ACTIVITY_PAGE)
    query = (
        AccessEvent.select(
            AccessEvent.id,
            AccessEvent.account,
            AccessEvent.action,
            AccessEvent.at,
            AccessEvent.detail,
            AccessEvent.connection,
            AccessEvent.account.first_name.as_alias("first_name"),
            AccessEvent.account.last_name.as_alias("last_name"),
            AccessEvent.account.company_name.as_alias("company"),
            AccessEvent.account.role.as_alias("role"),
            AccessEvent.document,
            AccessEvent.document.title.as_alias("document_title"),
        )
        .where(
            (AccessEvent.connection.learner == learner.id)
            # Checks on the public verify page belong to no connection: the document says whose.
            | ((AccessEvent.action == CHECKED_ACTION) & (AccessEvent.document.owner == learner.id))
        )
        .order_by(AccessEvent.id, ascending=False)
    )
    events, has_next = paging.cut(await paging.apply(query))
    return ActivityPage(events=events, page=paging.page, has_next=has_next)
