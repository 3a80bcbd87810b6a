"""Reading connections, always through the person's own side: one connection, its shared
documents, and the filtered, searched, paginated list (the counts are in counts.py, the learner's
activity log in activity.py).

The list is an indexed query limited to one page, so a third party with 10,000 connections gets
their page as fast as one with 10.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from piccolo.columns.combination import WhereRaw
from piccolo.querystring import QueryString

from src.connections.rules import ACTIVE, WAITING_LEARNER, WAITING_TP, usable_where
from src.db import engine_kind
from src.tables.accounts import Account, Role
from src.tables.connections import Connection, ConnectionState, SharedDocument
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


LEARNER_ACTED = (
    '("c"."started_by" = \'learner\' OR "c"."expires_on" IS NOT NULL OR "c"."state" = \'declined\')'
)


def _search_where(account: Account, q: str) -> Any:
    """Search the other side by name or email, as `id IN (connections of the accounts whose name matches
    UNION ALL connections whose email matches)`, each part read from a trigram index: pg_trgm GIN
    indexes on PostgreSQL, the FTS5 trigram tables account_search and connection_search on SQLite
    (see migration 2026-11-29T01:30). A third party finds learners by name only where the page shows
    the name (see other_name): the learner has acted on the connection. Under three characters there
    is no trigram, and the plain LIKE of old does."""
    # The account's own side is in the outer query (mine()); leaving it out here lets the database
    # read the other side's matching accounts by its index instead of every one of this account's rows.
    if len(q) < 3:
        return _short_search_where(account, q)
    third_party = account.role == Role.third_party.value
    other_column = "learner" if third_party else "third_party"
    email_column = "learner_email" if third_party else "third_party_email"
    acted = f" AND {LEARNER_ACTED}" if third_party else ""
    if engine_kind() == "sqlite":
        names = "{first_name last_name}" if third_party else "{first_name last_name company_name}"
        phrase = '"' + q.replace('"', '""') + '"'
        # Only fixed column names are put into the text; what was typed is a parameter.
        sql = (
            '"connection"."id" IN (SELECT "c"."id" FROM "connection" AS "c" '  # noqa: S608
            f'WHERE "c"."{other_column}" IN '
            f'(SELECT "rowid" FROM "account_search" WHERE "account_search" MATCH {{}}){acted} '
            'UNION ALL SELECT "rowid" FROM "connection_search" WHERE "connection_search" MATCH {})'
        )
        return WhereRaw(sql, f"{names} : {phrase}", f"{email_column} : {phrase}")
    like = f"%{q}%"
    name_match = '"a"."first_name" ILIKE {} OR "a"."last_name" ILIKE {}'
    args: list[Any] = [like, like]
    if not third_party:
        name_match += ' OR "a"."company_name" ILIKE {}'
        args.append(like)
    # = ANY(ARRAY(...)), not IN (...): the matches are gathered once and read by primary key. With IN,
    # the planner liked a merge join that walks the account's connections backwards until 26 match.
    sql = (
        '"connection"."id" = ANY(ARRAY(SELECT "c"."id" FROM "connection" AS "c" '  # noqa: S608
        f'WHERE "c"."{other_column}" IN (SELECT "a"."id" FROM "account" AS "a" WHERE {name_match}){acted} '
        f'UNION ALL SELECT "c"."id" FROM "connection" AS "c" WHERE "c"."{email_column}" ILIKE {{}}))'
    )
    return WhereRaw(sql, *args, like)


def _short_search_where(account: Account, q: str) -> Any:
    like = f"%{q}%"
    if account.role == Role.third_party.value:
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


MAX_ID = 2**31 - 1  # ids are int4 on PostgreSQL: a cursor beyond that is garbage, not an error


def read_cursor(value: str | None) -> int | None:
    """A connection id from `?after=`/`?before=`, or None for anything else (the list then starts
    at its first page: a garbage cursor is never an error)."""
    text = (value or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


@dataclass
class ConnectionPage:
    rows: list[dict[str, Any]]
    state: str
    q: str
    previous_cursor: int | None = None  # `?before=` for the newer page, when there is one
    next_cursor: int | None = None  # `?after=` for the older page, when there is one
    first_page: bool = True

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_previous(self) -> bool:
        return self.previous_cursor is not None


def _row_extras() -> list[Any]:
    """Each row's number of shared documents and whether more time is asked, as correlated
    sub-selects read from their indexes, so a page is one query however many rows it holds."""
    return [
        QueryString(
            '(SELECT COUNT(*) FROM "shared_document" WHERE "shared_document"."connection" = "connection"."id")',
            alias="documents",
        ),
        QueryString(
            '(SELECT COUNT(*) FROM "extension_request" WHERE "extension_request"."connection" = "connection"."id"'
            ' AND "extension_request"."state" = \'pending\')',
            alias="extension_pending",
        ),
    ]


def _finish(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for row in rows:
        row["documents"] = int(row["documents"] or 0)
        row["extension_pending"] = bool(row["extension_pending"])
    return rows


async def list_page(
    account: Account,
    today: date,
    state: str = "all",
    q: str = "",
    after: str | int | None = None,
    before: str | int | None = None,
) -> ConnectionPage:
    """One page of the account's connections, newest first, by keyset: `after` an id gives the
    page of older ones, `before` an id the page of newer ones (read upwards, then turned round).
    No OFFSET: a deep page costs what the first one does. One query, with its joins and counts."""
    state = state if state in FILTERS else "all"
    q = q.strip()[:100]
    after_id = read_cursor(str(after)) if after is not None else None
    before_id = read_cursor(str(before)) if before is not None and after_id is None else None
    query = Connection.select(*_columns(), *_row_extras()).where(mine(account))
    condition = filter_where(state, today)
    if condition is not None:
        query = query.where(condition)
    if q:
        query = query.where(_search_where(account, q))
    if before_id is not None:
        rows = _finish(
            await query.where(Connection.id > before_id).order_by(Connection.id).limit(PAGE_SIZE + 1)
        )
        if len(rows) < PAGE_SIZE:
            # Fewer newer rows than a page (some have gone, or the cursor was typed): the first page,
            # read again so that it is a full one. Back from the second page there are exactly 25.
            return await list_page(account, today, state, q)
        newer = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE][::-1]
        return ConnectionPage(
            rows=rows,
            state=state,
            q=q,
            previous_cursor=rows[0]["id"] if newer else None,
            next_cursor=rows[-1]["id"],
            first_page=not newer,
        )
    if after_id is not None:
        query = query.where(Connection.id < after_id)
    rows = _finish(await query.order_by(Connection.id, ascending=False).limit(PAGE_SIZE + 1))
    has_next = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return ConnectionPage(
        rows=rows,
        state=state,
        q=q,
        previous_cursor=rows[0]["id"] if after_id is not None and rows else None,
        next_cursor=rows[-1]["id"] if has_next else None,
        first_page=after_id is None,
    )


async def one_row(account: Account, connection_id: int) -> dict[str, Any] | None:
    rows = await Connection.select(*_columns(), *_row_extras()).where(
        (Connection.id == connection_id) & mine(account)
    )
    return _finish(rows)[0] if rows else None
