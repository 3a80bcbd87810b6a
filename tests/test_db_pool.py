"""The PostgreSQL connection pool is opened in the app's lifespan and closed at shutdown (SQLite has
none: it is switched to WAL instead)."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from pathlib import Path

import asyncpg
import pytest
from litestar.testing import TestClient
from piccolo.engine.postgres import PostgresEngine
from piccolo.querystring import QueryString

from src import db
from src.app import create_app
from tests.support.client import make_settings
from tests.support.environment import BASE_URL, DATABASE_URL, IS_POSTGRES

ROOT = Path(__file__).resolve().parent.parent
# Each test's app opens and closes a pool of its own, with its own sizes.
pytestmark = pytest.mark.usefixtures("own_pool")


def test_lifespan_opens_the_pool_and_closes_it(smtp_server):
    settings = make_settings(smtp_server.port, database_pool_min=1, database_pool_max=3)
    engine = db.engine()
    app = create_app(settings)
    with TestClient(app, base_url=BASE_URL) as client:
        assert client.get("/login").status_code == 200
        if IS_POSTGRES:
            assert isinstance(engine, PostgresEngine)
            assert engine.pool is not None
            assert engine.pool.get_max_size() == 3
        else:
            path = settings.database_url.removeprefix("sqlite:///")
            with sqlite3.connect(path) as connection:
                assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    if IS_POSTGRES:
        assert engine.pool is None


def _pooled_app(smtp_server):
    """An app whose pool holds one connection, so every query runs on the same backend."""
    return create_app(make_settings(smtp_server.port, database_pool_min=1, database_pool_max=1))


async def _last_statement_of(pid: int) -> str:
    """What the backend `pid` ran last, asked over a connection of its own (not from the pool)."""
    connection = await asyncpg.connect(DATABASE_URL)
    try:
        return str(await connection.fetchval("SELECT query FROM pg_stat_activity WHERE pid = $1", pid))
    finally:
        await connection.close()


@pytest.mark.skipif(not IS_POSTGRES, reason="PostgreSQL connection pool")
def test_a_handed_back_connection_is_not_sent_a_reset(smtp_server):
    """asyncpg's default reset (`pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;`) would
    be the backend's last statement after every query a page runs outside a transaction."""
    with TestClient(_pooled_app(smtp_server), base_url=BASE_URL) as client:
        engine = db.engine()
        pid = client.blocking_portal.call(
            engine.run_querystring, QueryString("SELECT pg_backend_pid() AS pid")
        )
        pid = pid[0]["pid"]
        last = asyncio.run(_last_statement_of(pid))
        assert last == "SELECT pg_backend_pid() AS pid", last
        # The same backend serves the next query: handed back, not closed.
        again = client.blocking_portal.call(
            engine.run_querystring, QueryString("SELECT pg_backend_pid() AS pid")
        )
        assert again[0]["pid"] == pid


@pytest.mark.skipif(not IS_POSTGRES, reason="PostgreSQL connection pool")
def test_a_transaction_left_open_is_rolled_back_when_its_connection_is_handed_back(smtp_server):
    """What the reset still does: asyncpg ends an open transaction before the next request gets the
    connection, so nothing a failed request began can leak into another one."""
    with TestClient(_pooled_app(smtp_server), base_url=BASE_URL) as client:
        engine = db.engine()
        assert isinstance(engine, PostgresEngine)

        async def leave_open() -> int:
            assert engine.pool is not None
            async with engine.pool.acquire() as connection:
                await connection.execute("BEGIN")
                await connection.execute("CREATE TEMPORARY TABLE left_open (n int) ON COMMIT DROP")
                return int(await connection.fetchval("SELECT pg_backend_pid()"))

        async def state_of_next() -> tuple[int, bool, bool]:
            assert engine.pool is not None
            async with engine.pool.acquire() as connection:
                pid = int(await connection.fetchval("SELECT pg_backend_pid()"))
                table = await connection.fetchval("SELECT to_regclass('pg_temp.left_open') IS NOT NULL")
                return pid, connection.is_in_transaction(), bool(table)

        pid = client.blocking_portal.call(leave_open)
        next_pid, in_transaction, table_there = client.blocking_portal.call(state_of_next)
        assert next_pid == pid  # the same connection, handed back
        assert not in_transaction
        assert not table_there  # ON COMMIT DROP: gone only because the transaction ended


@pytest.mark.skipif(not IS_POSTGRES, reason="PostgreSQL connection pool")
@pytest.mark.parametrize("failing", ["rollback", "commit", "start"])
def test_a_transaction_that_cannot_end_cleanly_still_hands_its_connection_back(
    smtp_server, monkeypatch, failing
):
    """A BEGIN, COMMIT or ROLLBACK that times out (a database outage) must not keep its connection out
    of the pool: with a pool of one, the next transaction gets a connection again at once."""
    settings = make_settings(
        smtp_server.port, database_pool_min=1, database_pool_max=1, database_acquire_timeout_seconds=2
    )
    with TestClient(create_app(settings), base_url=BASE_URL) as client:
        real = getattr(asyncpg.transaction.Transaction, failing)

        async def times_out(self):
            monkeypatch.setattr(asyncpg.transaction.Transaction, failing, real)  # fails once
            raise TimeoutError(f"{failing} timed out")

        monkeypatch.setattr(asyncpg.transaction.Transaction, failing, times_out)

        async def one_transaction(fail_inside: bool) -> int:
            async with db.write_transaction():
                pid = (await db.engine().run_querystring(QueryString("SELECT pg_backend_pid() AS pid")))[0][
                    "pid"
                ]
                if fail_inside:
                    raise LookupError("the request failed")
                return int(pid)

        with pytest.raises(TimeoutError):
            client.blocking_portal.call(one_transaction, failing == "rollback")
        # Before the fix the only connection stayed checked out: this waited 2 s and failed.
        assert client.blocking_portal.call(one_transaction, False) > 0
        assert client.get("/healthz").status_code == 200


def test_the_portal_leaves_no_session_state_for_a_pooled_connection_to_carry():
    """The pool hands connections back without RESET ALL, UNLISTEN or pg_advisory_unlock_all (see
    src.db.postgres_pool.keep_session_state): so no code may set session settings, listen, open a cursor or
    take a session-level advisory lock. Transaction-scoped forms (SET LOCAL, pg_advisory_xact_lock)
    end with their transaction and stay allowed."""
    # SQL as this code writes it: keywords in capitals, at the start of a string.
    session_state = re.compile(
        r"""(?<![\w}])["']\s*(?:SET\s+(?!LOCAL\b)|RESET\s|LISTEN\s|DECLARE\s)|pg_(?:try_)?advisory_lock"""
    )
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted((ROOT / "src").rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if session_state.search(line)
    ]
    assert not found, found
