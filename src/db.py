"""The database engine, and the one way to open a write transaction on either engine.

SQLite: WAL and a busy timeout on every connection, and BEGIN IMMEDIATE for transactions that read
then write (a deferred one upgrades its lock too late and gets "database is locked").
PostgreSQL: a pool opened and closed in the app's lifespan.
"""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from piccolo.columns import Column
    from piccolo.engine.base import Engine
    from piccolo.table import Table

BUSY_TIMEOUT_SECONDS = 15


def engine_from_url(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        # sqlite3's own timeout is the busy timeout, applied on every new connection.
        return SQLiteEngine(path=str(path), timeout=BUSY_TIMEOUT_SECONDS)
    if url.startswith(("postgres://", "postgresql://")):
        return PostgresEngine(config={"dsn": url})
    raise ValueError("DATABASE_URL must start with sqlite:/// or postgresql://")


def engine() -> Engine:
    from src.tables.accounts import Account

    return Account._meta.db


@asynccontextmanager
async def write_transaction() -> AsyncIterator[None]:
    """A transaction for work that reads then writes: IMMEDIATE on SQLite, plain on PostgreSQL."""
    db = engine()
    if isinstance(db, SQLiteEngine):
        async with db.transaction(transaction_type=TransactionType.immediate):
            yield
    else:
        async with db.transaction():
            yield


async def open_pool(min_size: int = 2, max_size: int = 10) -> None:
    """PostgreSQL: open the pool (max_size 0: no pool, a connection per query). SQLite: switch the
    file to WAL (persistent, so once is enough)."""
    db = engine()
    if isinstance(db, SQLiteEngine):
        await db.run_ddl("PRAGMA journal_mode = WAL")
    elif isinstance(db, PostgresEngine) and max_size > 0 and db.pool is None:
        await db.start_connection_pool(min_size=min(min_size, max_size), max_size=max_size)


async def close_pool(grace_seconds: float = 10.0) -> None:
    """Close the pool, waiting at most `grace_seconds` for queries in flight, then terminate it: shutting
    down must never hang on a connection that a cancelled task did not give back."""
    db = engine()
    if isinstance(db, PostgresEngine) and db.pool is not None:
        pool, db.pool = db.pool, None
        try:
            async with asyncio.timeout(grace_seconds):
                await pool.close()
        except TimeoutError:
            pool.terminate()


def unique_violation(exc: BaseException) -> str | None:
    """The column whose unique index refused a write (e.g. "username_key"), or None for any other error.

    A check-then-insert can lose a race to another request; the unique index is the last word."""
    if isinstance(exc, sqlite3.IntegrityError) and "UNIQUE constraint failed" in str(exc):
        return str(exc).rsplit(".", 1)[-1].strip()
    if isinstance(exc, asyncpg.UniqueViolationError):
        name = exc.constraint_name or ""
        for column in ("username_key", "email", "idempotency_key", "certificate_number", "verify_code"):
            if column in name:
                return column
        return name
    return None


async def compare_and_set(
    table: type[Table],
    row_id: int,
    expected: dict[Column, Any],
    changes: dict[Any, Any],
    also: Any = None,
) -> bool:
    """Change one row only if it still holds the values we read (`expected`, plus an optional extra
    condition `also`); False means someone else changed it first. Every state machine uses this:
    `UPDATE … WHERE id = ? AND state = ? AND version = ?` changes zero rows for the loser of a race."""
    where: Any = table._meta.primary_key == row_id
    for column, value in expected.items():
        where = where & (column.is_null() if value is None else column == value)
    if also is not None:
        where = where & also
    return bool(await table.update(changes).where(where).returning(table._meta.primary_key))


async def insert_many(table: type[Table], rows: list[dict[str, Any]]) -> None:
    """Insert many rows with one prepared statement (executemany) on the open transaction's
    connection. Piccolo builds a multi-row INSERT in Python value by value, which for thousands of
    rows takes seconds while the write lock is held; executemany hands the rows to the driver as
    they are. Every row has the same keys: column names from code (never from input). Dates and
    times go through the driver's adapters; JSON columns must be given as text."""
    if not rows:
        return
    db = engine()
    transaction = db.current_transaction.get()
    if transaction is None:
        raise RuntimeError("insert_many runs inside a transaction")
    columns = list(rows[0])
    names = ", ".join(f'"{column}"' for column in columns)
    values = [tuple(row[column] for column in columns) for row in rows]
    if isinstance(db, SQLiteEngine):
        marks = ", ".join("?" for _ in columns)
    else:
        marks = ", ".join(f"${n}" for n in range(1, len(columns) + 1))
    sql = f'INSERT INTO "{table._meta.tablename}" ({names}) VALUES ({marks})'  # noqa: S608 - names from code
    await transaction.connection.executemany(sql, values)


async def update_many(table: type[Table], rows: list[dict[str, Any]]) -> None:
    """Update many rows by id with one prepared statement (executemany) on the open transaction's
    connection: each dict has "id" and the same other columns (names from code, never from input)."""
    if not rows:
        return
    db = engine()
    transaction = db.current_transaction.get()
    if transaction is None:
        raise RuntimeError("update_many runs inside a transaction")
    columns = [column for column in rows[0] if column != "id"]
    sqlite = isinstance(db, SQLiteEngine)
    sets = ", ".join(f'"{c}" = ' + ("?" if sqlite else f"${n}") for n, c in enumerate(columns, 1))
    where = '"id" = ' + ("?" if sqlite else f"${len(columns) + 1}")
    values = [(*(row[column] for column in columns), row["id"]) for row in rows]
    sql = f'UPDATE "{table._meta.tablename}" SET {sets} WHERE {where}'  # noqa: S608 - names from code
    await transaction.connection.executemany(sql, values)
