"""The search's plan reads the search's candidates, not the account's connections: a third party with
1,500 connections beside 50 with two each (PostgreSQL's statistics then call the average third party
small), searching a surname that 30 of its learners have.

On PostgreSQL the statement is prepared once per pooled connection, and after five runs PostgreSQL
may keep a generic plan, made without the values; so both the custom and the generic plan are
explained (ANALYZE) and the rows they read off `connection` counted. The generic plan once read the
large account's whole `connection_third_party` index, 1,500 rows here and 10,000 in `make bench`,
to keep the ~30 candidates (bench/README.md, "The search and generic plans"). On SQLite (no
statistics, no generic plans) the plan must read the outer `connection` by rowid, never scan it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from piccolo.querystring import QueryString

from src import connections
from src.connections import listing
from src.db import Statement, engine
from src.tables.accounts import Account
from src.tables.connections import Connection
from tests.support.client import run
from tests.support.clocks import today
from tests.support.environment import DATABASE_URL, IS_POSTGRES

LARGE, OTHERS, SURNAME_EVERY = 1_500, 50, 50  # 30 of the large account's learners are Gallaghers


async def _insert(table: Any, rows: list[Any]) -> None:
    for start in range(0, len(rows), 250):  # PostgreSQL takes at most 32,767 values a statement
        await table.insert(*rows[start : start + 250])


async def _learners(prefix: str, count: int, surname_every: int) -> list[int]:
    now = datetime.now(UTC)
    await _insert(
        Account,
        [
            Account(
                role="learner",
                username=f"{prefix}{n}",
                username_key=f"{prefix}{n}",
                email=f"{prefix}{n}@example.com",
                email_verified_at=now,
                first_name="Robin",
                last_name="Gallagher" if surname_every and n % surname_every == 0 else f"Surname{n}",
            )
            for n in range(count)
        ],
    )
    rows = await Account.select(Account.id).where(Account.username.like(f"{prefix}%")).order_by(Account.id)
    return [row["id"] for row in rows]


async def _connect(third_party: Account, learner_ids: list[int], day: date) -> None:
    await _insert(
        Connection,
        [
            Connection(
                learner=learner_id,
                learner_email=f"learner-{learner_id}@example.com",
                third_party=third_party.id,
                third_party_email=third_party.email,
                started_by="learner",
                state="active",
                expires_on=day + timedelta(days=100),
            )
            for learner_id in learner_ids
        ],
    )


async def _third_party(username: str) -> Account:
    await Account.insert(
        Account(
            role="third_party",
            username=username,
            username_key=username,
            email=f"{username}@example.com",
            first_name="Terry",
            last_name="Employer",
        )
    )
    account = await Account.objects().where(Account.username == username).first()
    assert account is not None
    return account


@pytest.fixture
def skewed(tess: Account) -> dict[str, Account]:
    """Tess with 5 connections (one to a Gallagher), a third party with LARGE (every 50th learner a
    Gallagher) and OTHERS third parties with two each; then ANALYZE, as autovacuum would."""
    day = today()

    async def seed() -> dict[str, Account]:
        large = await _third_party("large_employer")
        await _connect(large, await _learners("many", LARGE, SURNAME_EVERY), day)
        await _connect(tess, await _learners("few", 5, 5), day)
        pairs = await _learners("pair", 2 * OTHERS, 0)
        for n in range(OTHERS):
            await _connect(await _third_party(f"employer{n}"), pairs[2 * n : 2 * n + 2], day)
        if IS_POSTGRES:
            await engine().run_ddl("ANALYZE")
        return {"small": tess, "large": large}

    return run(seed())


@pytest.fixture
def search_statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[Statement, tuple[Any, ...]]]]:
    """The statements (and values) the list runs meanwhile, as the page runs them."""
    seen: list[tuple[Statement, tuple[Any, ...]]] = []
    real_fetch = listing.fetch

    async def spy(statement: Statement, *args: Any) -> Any:
        seen.append((statement, args))
        return await real_fetch(statement, *args)

    monkeypatch.setattr(listing, "fetch", spy)
    yield seen


def _literal(value: Any) -> str:
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


async def _rows_read_from_connection(sql: str, args: tuple[Any, ...]) -> dict[str, int]:
    """Rows the outer `connection` scan read (kept and filtered out) under each plan mode, on a
    connection of its own (SET and PREPARE never reach the app's pool)."""
    import asyncpg

    conn = await asyncpg.connect(DATABASE_URL)
    try:
        await conn.execute(f"PREPARE search AS {sql}")
        read = {}
        for mode in ("force_custom_plan", "force_generic_plan"):
            await conn.execute(f"SET plan_cache_mode = {mode}")
            values = ", ".join(_literal(value) for value in args)
            (plan,) = json.loads(
                await conn.fetchval(f"EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) EXECUTE search({values})")
            )
            read[mode] = sum(
                (node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0))
                * node.get("Actual Loops", 1)
                for node in _nodes(plan["Plan"])
                if node.get("Relation Name") == "connection" and node.get("Alias") == "connection"
            )
        return read
    finally:
        await conn.close()


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


async def _sqlite_plan(statement: Statement, args: tuple[Any, ...]) -> list[str]:
    rows = await engine().run_querystring(QueryString("EXPLAIN QUERY PLAN " + statement.template, *args))
    return [row["detail"] for row in rows]


def test_the_search_reads_its_candidates_whatever_the_size_of_the_account(
    skewed: dict[str, Account], search_statements: list[tuple[Statement, tuple[Any, ...]]]
) -> None:
    shown = {}
    for key, account in skewed.items():
        page = run(connections.list_page(account, today(), "all", "gallagher"))
        shown[key] = len(page.rows)
    assert shown == {"small": 1, "large": 25}  # 1 of Tess's 5; 25 of the large account's 30, a next page

    assert len(search_statements) == 2  # one statement a page, each checked below
    candidates = LARGE // SURNAME_EVERY + 1  # every Gallagher's connection, whoever's it is
    for statement, args in search_statements:
        if IS_POSTGRES:
            sql, values = QueryString(statement.template, *args).compile_string(engine_type="postgres")
            read = run(_rows_read_from_connection(sql, tuple(values)))
            assert all(rows <= candidates for rows in read.values()), (read, statement.template)
        else:
            plan = run(_sqlite_plan(statement, args))
            outer = [line for line in plan if line.startswith(("SEARCH connection ", "SCAN connection "))]
            assert len(outer) == 1 and "rowid=?" in outer[0], plan
            assert not any("TEMP B-TREE" in line for line in plan), plan
