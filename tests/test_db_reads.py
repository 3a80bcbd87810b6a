"""The short reads of src/db/reads.py: the same rows and types as a Piccolo query, on both engines,
whichever way they run (inline on SQLite's read connection, or through the engine); inside a
transaction they see its own writes; a commit elsewhere is seen at once; a busy file falls back."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from typing import Any

import pytest

from src import db
from src.db import Statement, fetch, fetch_one, reads
from src.tables.accounts import Account
from tests.support.client import run
from tests.support.environment import IS_POSTGRES
from tests.support.factories import make_account

BY_ID = Statement(
    'SELECT "id", "username", "date_of_birth", "created_at", "deleted_at", "failed_logins" '
    'FROM "account" WHERE "id" = {}'
)


async def _with_pool(work: Any) -> Any:
    """With the pool open (the session app's, or one of its own when there is none)."""
    opened = await db.open_pool()
    try:
        return await work()
    finally:
        if opened:
            await db.close_pool()


def _inline_reads() -> tuple[list[str], Any]:
    """Count the statements that run on SQLite's read connection; returns (seen, restore)."""
    seen: list[str] = []
    original = reads.run_inline

    def spy(reader: Any, sql: str, args: Any) -> Any:
        seen.append(sql)
        return original(reader, sql, args)

    reads.run_inline = spy
    return seen, lambda: setattr(reads, "run_inline", original)


def test_a_statement_gives_the_rows_and_types_a_piccolo_query_gives() -> None:
    account = run(make_account(username="dana", date_of_birth=date(1990, 5, 17)))
    seen, restore = _inline_reads()
    try:

        async def both() -> tuple[Any, Any, Any]:
            mine = await fetch_one(BY_ID, account.id)
            piccolo = (
                await Account.select(
                    Account.id,
                    Account.username,
                    Account.date_of_birth,
                    Account.created_at,
                    Account.deleted_at,
                    Account.failed_logins,
                )
                .where(Account.id == account.id)
                .first()
            )
            return mine, piccolo, await fetch(BY_ID, account.id + 1000)

        mine, piccolo, nobody = run(_with_pool(both))
    finally:
        restore()
    assert mine == piccolo
    assert isinstance(mine["date_of_birth"], date) and mine["date_of_birth"] == date(1990, 5, 17)
    assert isinstance(mine["created_at"], datetime)
    assert mine["deleted_at"] is None and mine["failed_logins"] == 0
    assert nobody == []
    # On SQLite with the pool open they ran inline (two statements); on PostgreSQL through the pool.
    assert len(seen) == (0 if IS_POSTGRES else 2)


def test_inside_a_transaction_a_read_sees_the_transaction_own_writes() -> None:
    account = run(make_account(username="dana"))

    async def work() -> tuple[Any, Any]:
        async with db.write_transaction():
            await Account.update({Account.failed_logins: 3}).where(Account.id == account.id)
            inside = await fetch_one(BY_ID, account.id)
        after = await fetch_one(BY_ID, account.id)
        return inside, after

    inside, after = run(_with_pool(work))
    assert inside["failed_logins"] == 3  # not the committed 0 another connection would see
    assert after["failed_logins"] == 3


def test_a_commit_made_elsewhere_is_read_at_once() -> None:
    account = run(make_account(username="dana"))

    async def work() -> list[int]:
        seen = [(await fetch_one(BY_ID, account.id))["failed_logins"]]
        for n in (1, 2):
            await Account.update({Account.failed_logins: n}).where(Account.id == account.id)
            seen.append((await fetch_one(BY_ID, account.id))["failed_logins"])
        return seen

    assert run(_with_pool(work)) == [0, 1, 2]


@pytest.mark.skipif(IS_POSTGRES, reason="SQLite's read connection")
def test_a_busy_database_file_falls_back_to_the_pooled_way(monkeypatch: pytest.MonkeyPatch) -> None:
    account = run(make_account(username="dana"))

    def busy(reader: Any, sql: str, args: Any) -> Any:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(reads, "run_inline", busy)
    row = run(_with_pool(lambda: fetch_one(BY_ID, account.id)))
    assert row is not None and row["username"] == "dana"


@pytest.mark.skipif(IS_POSTGRES, reason="SQLite's read connection")
def test_other_errors_of_the_read_connection_are_not_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(reader: Any, sql: str, args: Any) -> Any:
        raise sqlite3.OperationalError("no such table: account")

    monkeypatch.setattr(reads, "run_inline", broken)
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        run(_with_pool(lambda: fetch(BY_ID, 1)))


@pytest.mark.skipif(IS_POSTGRES, reason="SQLite's read connection")
def test_the_read_connection_is_closed_with_the_pool_and_cannot_write(own_pool: None) -> None:
    engine: Any = db.engine()

    async def work() -> sqlite3.Connection:
        reader = engine.reader()
        assert reader is engine.reader()  # one per thread, kept
        with pytest.raises(sqlite3.OperationalError, match=r"readonly|query_only|attempt to write"):
            reader.execute('DELETE FROM "account"')
        return reader

    reader = run(_with_pool(work))
    assert engine.reader() is None  # the pool is closed: no inline reads
    with pytest.raises(sqlite3.ProgrammingError):
        reader.execute("SELECT 1")  # closed with the pool
    fresh = run(_with_pool(lambda: _reader_now(engine)))
    assert fresh is not reader


async def _reader_now(engine: Any) -> Any:
    return engine.reader()


def test_the_session_account_is_the_account_piccolo_would_load() -> None:
    from src.auth import load_account

    account = run(make_account(username="dana", date_of_birth=date(1990, 5, 17)))

    async def both() -> tuple[Any, Any]:
        return await load_account(account.id), await Account.objects().where(Account.id == account.id).first()

    mine, piccolo = run(_with_pool(both))
    assert mine.to_dict() == piccolo.to_dict()
    assert mine._exists_in_db and mine.session_epoch == piccolo.session_epoch

    async def change_and_reload() -> Any:
        loaded = await load_account(account.id)
        loaded.first_name = "Dora"
        await loaded.save([Account.first_name])  # an update of that row, not an insert
        return await Account.select(Account.first_name).where(Account.id == account.id)

    assert run(_with_pool(change_and_reload)) == [{"first_name": "Dora"}]
    assert run(Account.count().run()) == 1


def test_a_deleted_account_has_no_session_account() -> None:
    from src.auth import load_account

    account = run(make_account(username="dana"))
    run(Account.update({Account.deleted_at: datetime(2026, 1, 1)}).where(Account.id == account.id).run())
    assert run(_with_pool(lambda: load_account(account.id))) is None
