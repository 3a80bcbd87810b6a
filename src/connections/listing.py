"""A person's list of connections: filtered, searched and paginated by keyset, one row at a time
after an action, and the dashboard's "ending soon".

The list is one indexed statement limited to a page, so a third party with 10,000 connections gets
their page as fast as one with 10. Its SQL is written here once per shape (side, filter, search,
direction) and run through `src.db.fetch` (inline on SQLite): building it with Piccolo's query
builder on every request cost more than running it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from src.connections.rules import ENDED, USABLE, WAITING_LEARNER, WAITING_TP
from src.db import Row, Statement, engine_kind, fetch
from src.tables.accounts import Account, Role
from src.tables.connections import ConnectionState

PAGE_SIZE = 25
FILTERS = {
    "all": "All",
    "waiting": "Waiting",
    "active": "Active",
    "ended": "Ended",
}
MAX_ID = 2**31 - 1  # ids are int4 on PostgreSQL: a cursor beyond that is garbage, not an error

# What a row shows: the connection, both sides' names, and (in _ROW_EXTRAS) whether it is usable today
# (the one rule, for the template to read), its number of shared documents and whether more time is
# asked, as correlated sub-selects read from their indexes.
_FIELDS = (
    'SELECT "connection"."id", "connection"."state", "connection"."expires_on", "connection"."started_by", '
    '"connection"."created_at", "connection"."learner_email", "connection"."third_party_email", '
    '"connection"."version", "l"."first_name" AS "learner_first", "l"."last_name" AS "learner_last", '
    '"t"."first_name" AS "tp_first", "t"."last_name" AS "tp_last", "t"."company_name" AS "tp_company"'
)
_ROW_EXTRAS = (
    f', {USABLE.sql()} AS "usable"'  # noqa: S608 - names from code, values bound
    ', (SELECT COUNT(*) FROM "shared_document" WHERE "shared_document"."connection" = "connection"."id") AS "documents"'
    ', (SELECT COUNT(*) FROM "extension_request" WHERE "extension_request"."connection" = "connection"."id"'
    ' AND "extension_request"."state" = \'pending\') AS "extension_pending"'
)
_FROM = (
    ' FROM "connection" LEFT JOIN "account" AS "l" ON "l"."id" = "connection"."learner"'
    ' LEFT JOIN "account" AS "t" ON "t"."id" = "connection"."third_party"'
)


def _side(account: Account) -> str:
    return "learner" if account.role == Role.learner.value else "third_party"


def _learner_acted(table: str) -> str:
    """A third party sees a learner's name only once the learner has acted on the connection."""
    return (
        f'("{table}"."started_by" = \'learner\' OR "{table}"."expires_on" IS NOT NULL '
        f'OR "{table}"."state" = \'declined\')'
    )


def _filter(name: str, today: date) -> tuple[str, list[Any]]:
    if name == "waiting":
        return '"connection"."state" IN ({}, {})', [WAITING_TP, WAITING_LEARNER]
    if name == "active":
        # The page walks the account's (third_party, state, id) index newest first, testing the day
        # row by row. Searched by the day instead, SQLite (no statistics) takes the ending-soon index
        # (third_party, state, expires_on) and sorts every usable connection (bench/README.md, "The
        # dashboard", has the figures).
        return USABLE.sql(day_as_filter=True), USABLE.args(today)
    if name == "ended":
        return (
            f'("connection"."state" IN ({{}}, {{}}) OR {ENDED.sql()})',
            [ConnectionState.declined.value, ConnectionState.cancelled.value, *ENDED.args(today)],
        )
    return "", []


def _search_reads_candidates(q: str) -> bool:
    """Whether the search is read from trigram indexes (three characters or more): a short list of
    candidate connections that the page is then read from, the account only filtering them."""
    return len(q) >= 3


def _search(account: Account, q: str) -> tuple[str, list[Any]]:
    """Search the other side by name or email, as `id IN (connections of the accounts whose name matches
    UNION ALL connections whose email matches)`, each part read from a trigram index: pg_trgm GIN
    indexes on PostgreSQL, the FTS5 trigram tables account_search and connection_search on SQLite
    (see migration 2026-11-29T01:30). A third party finds learners by name only where the page shows
    the name (see other_name): the learner has acted on the connection. Under three characters there
    is no trigram, and a plain LIKE does.

    The account's own side is in the outer query; leaving it out here lets the database read the
    other side's matching accounts by its index instead of every one of this account's rows."""
    third_party = account.role == Role.third_party.value
    other_column = "learner" if third_party else "third_party"
    email_column = "learner_email" if third_party else "third_party_email"
    name_columns = ["first_name", "last_name"] if third_party else ["first_name", "last_name", "company_name"]
    sqlite = engine_kind() == "sqlite"
    like = f"%{q}%"
    if not _search_reads_candidates(q):
        op = "LIKE" if sqlite else "ILIKE"  # SQLite's LIKE ignores case (ASCII), as ILIKE does
        names = " OR ".join(f'"{column}" {op} {{}}' for column in name_columns)
        acted = f" AND {_learner_acted('connection')}" if third_party else ""
        return (
            f'(("connection"."{other_column}" IN (SELECT "id" FROM "account" WHERE {names}){acted}) '  # noqa: S608 - names from code
            f'OR "connection"."{email_column}" {op} {{}})',
            [like] * len(name_columns) + [like],
        )
    acted = f" AND {_learner_acted('c')}" if third_party else ""
    if sqlite:
        phrase = '"' + q.replace('"', '""') + '"'
        # Only fixed column names are put into the text; what was typed is a parameter.
        return (
            '"connection"."id" IN (SELECT "c"."id" FROM "connection" AS "c" '  # noqa: S608 - names from code
            f'WHERE "c"."{other_column}" IN '
            f'(SELECT "rowid" FROM "account_search" WHERE "account_search" MATCH {{}}){acted} '
            'UNION ALL SELECT "rowid" FROM "connection_search" WHERE "connection_search" MATCH {})',
            ["{" + " ".join(name_columns) + "} : " + phrase, f"{email_column} : {phrase}"],
        )
    names = " OR ".join(f'"a"."{column}" ILIKE {{}}' for column in name_columns)
    # = ANY(ARRAY(...)), not IN (...): the matches are gathered once and read by primary key. With IN,
    # the planner liked a merge join that walks the account's connections backwards until 26 match.
    return (
        '"connection"."id" = ANY(ARRAY(SELECT "c"."id" FROM "connection" AS "c" '  # noqa: S608 - names from code
        f'WHERE "c"."{other_column}" IN (SELECT "a"."id" FROM "account" AS "a" WHERE {names}){acted} '
        f'UNION ALL SELECT "c"."id" FROM "connection" AS "c" WHERE "c"."{email_column}" ILIKE {{}}))',
        [like] * len(name_columns) + [like],
    )


_statements: dict[str, Statement] = {}


def _statement(sql: str) -> Statement:
    """One Statement per distinct SQL text (a handful of shapes), so each is prepared once."""
    statement = _statements.get(sql)
    if statement is None:
        statement = _statements[sql] = Statement(sql)
    return statement


async def _rows(
    account: Account,
    today: date,
    conditions: list[tuple[str, list[Any]]],
    order: str,
    limit: int,
    *,
    account_as_filter: bool = False,
) -> list[Row]:
    """The rows, newest or oldest first. `account_as_filter`: the account is tested row by row
    (`IS TRUE`), never searched by its index, for a search that reads its few candidates by id. A
    statement is prepared once per connection, and PostgreSQL's generic plan for it (kept after
    five runs) takes every account for the average one: with many small third parties, it read a
    10,000-connection account's whole index to keep the search's ~70 candidates (bench/README.md,
    "The search and generic plans")."""
    account_test = f'"connection"."{_side(account)}" = {{}}'
    where = [f"({account_test}) IS TRUE" if account_as_filter else account_test]
    args: list[Any] = [*USABLE.args(today), account.id]
    for sql, values in conditions:
        if sql:
            where.append(sql)
            args += values
    rows = await fetch(
        _statement(f"{_FIELDS}{_ROW_EXTRAS}{_FROM} WHERE {' AND '.join(where)} ORDER BY {order} LIMIT {{}}"),
        *args,
        limit,
    )
    for row in rows:
        row["usable"] = bool(row["usable"])  # SQLite answers 0/1, and either engine NULL without an end day
        row["documents"] = int(row["documents"] or 0)
        row["extension_pending"] = bool(row["extension_pending"])
    return rows


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
    rows: list[Row]
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
    q = q.replace("\x00", "").strip()[:100]
    after_id = read_cursor(str(after)) if after is not None else None
    before_id = read_cursor(str(before)) if before is not None and after_id is None else None
    conditions = [_filter(state, today)]
    if q:
        conditions.append(_search(account, q))
    by_candidates = bool(q) and _search_reads_candidates(q)
    if before_id is not None:
        conditions.append(('"connection"."id" > {}', [before_id]))
        rows = await _rows(
            account, today, conditions, '"connection"."id"', PAGE_SIZE + 1, account_as_filter=by_candidates
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
        conditions.append(('"connection"."id" < {}', [after_id]))
    rows = await _rows(
        account, today, conditions, '"connection"."id" DESC', PAGE_SIZE + 1, account_as_filter=by_candidates
    )
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


async def one_row(account: Account, connection_id: int, today: date) -> Row | None:
    """The list's row for one connection of this account (after an action), or None."""
    if account.role not in (Role.learner.value, Role.third_party.value):
        return None
    rows = await _rows(account, today, [('"connection"."id" = {}', [connection_id])], '"connection"."id"', 1)
    return rows[0] if rows else None


ENDING_SOON_DAYS = 30

# Usable today and no longer usable ENDING_SOON_DAYS + 1 days on: the last day is within the 30 days.
_ENDING_SOON = {
    side: Statement(
        f'{_FIELDS}{_FROM} WHERE "connection"."{side}" = {{}} AND {USABLE.sql()} AND {ENDED.sql()} '
        'ORDER BY "connection"."expires_on" LIMIT 10'
    )
    for side in ("learner", "third_party")
}


async def ending_soon(account: Account, today: date) -> list[Row]:
    """The dashboard's list: usable connections whose access ends within 30 days, soonest first."""
    beyond = today + timedelta(days=ENDING_SOON_DAYS + 1)
    return await fetch(_ENDING_SOON[_side(account)], account.id, *USABLE.args(today), *ENDED.args(beyond))
