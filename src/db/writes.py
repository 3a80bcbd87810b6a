"""Writes, and the reads that belong to them: the one way to open a write transaction on either
engine, compare-and-set for every state machine, row locks, and bulk statements for imports.

SQLite: BEGIN IMMEDIATE for transactions that read then write (a deferred one upgrades its lock too
late and gets "database is locked").
"""

from __future__ import annotations

import sqlite3
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import asyncpg
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from src.db.pool import engine

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from piccolo.columns import Column
    from piccolo.table import Table


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


def unique_violation(exc: BaseException) -> str | None:
    """The column whose unique index refused a write (e.g. "username_key"), or None for any other error.

    A check-then-insert can lose a race to another request; the unique index is the last word."""
    if isinstance(exc, sqlite3.IntegrityError) and "UNIQUE constraint failed" in str(exc):
        return str(exc).rsplit(".", 1)[-1].strip()
    if isinstance(exc, asyncpg.UniqueViolationError):
        name = exc.constraint_name or ""
        for column in (
            "username_key",
            "email",
            "idempotency_key",
            "certificate_number",
            "verify_code",
            "open_pair",
        ):
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


async def lock_row(table: type[Table], row_id: int) -> None:
    """Inside a `write_transaction()`: hold this row until the transaction ends, so that a count
    followed by an insert cannot be interleaved by another request of the same person.
    PostgreSQL: `SELECT … FOR UPDATE`. SQLite: BEGIN IMMEDIATE already holds the one write lock."""
    if isinstance(engine(), PostgresEngine):
        await table.raw(
            f"SELECT 1 FROM {table._meta.tablename} WHERE id = {{}} FOR UPDATE",  # noqa: S608 - a table name, not input
            row_id,
        )


async def select_in(
    table: type[Table], columns: list[str], key: str, values: list[Any], chunk: int = 500
) -> list[dict[str, Any]]:
    """The rows whose `key` column is one of `values` (only `columns`), in a few chunked statements
    whose values go to the driver as they are: Piccolo's `is_in` converts thousands of values one by
    one in Python, which a 5,000-row import would pay while it holds the write lock. Runs on the open
    transaction's connection, or in a transaction of its own (a read: no write lock on SQLite).
    Column names come from code, never from input."""
    if not values:
        return []
    db = engine()
    transaction = db.current_transaction.get()
    if transaction is None:
        async with db.transaction():
            return await select_in(table, columns, key, values, chunk)
    names = ", ".join(f'"{column}"' for column in columns)
    sql = f'SELECT {names} FROM "{table._meta.tablename}" WHERE "{key}" '  # noqa: S608 - names from code
    found: list[dict[str, Any]] = []
    for start in range(0, len(values), chunk):
        part = values[start : start + chunk]
        if isinstance(db, SQLiteEngine):  # its connections hand rows back as dicts (Piccolo's factory)
            async with transaction.connection.execute(
                sql + f"IN ({', '.join('?' for _ in part)})", part
            ) as cur:
                found += await cur.fetchall()
        else:
            found += [dict(row) for row in await transaction.connection.fetch(sql + "= ANY($1)", part)]
    return found


async def insert_many(
    table: type[Table], rows: list[dict[str, Any]], *, unless_taken: str | None = None
) -> None:
    """Insert many rows with one prepared statement (executemany) on the open transaction's
    connection. Piccolo builds a multi-row INSERT in Python value by value, which for thousands of
    rows takes seconds while the write lock is held; executemany hands the rows to the driver as
    they are. Every row has the same keys: column names from code (never from input). Dates and
    times go through the driver's adapters; JSON columns must be given as text. With `unless_taken`
    (a column with a unique index), a row whose value is already there is left out (ON CONFLICT DO
    NOTHING), with no read before."""
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
    if unless_taken:
        sql += f' ON CONFLICT ("{unless_taken}") DO NOTHING'
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


async def add_counts(
    table: type[Table], key: tuple[str, ...], count: str, latest: str, rows: list[dict[str, Any]]
) -> None:
    """Add each row's `count` to the row with the same `key` columns (which a unique index covers),
    inserting it when there is none, and keep the latest `latest`: one
    `INSERT … ON CONFLICT (key) DO UPDATE SET count = count + excluded.count` for all of them, on
    the open transaction's connection, handed to the driver as insert_many does (fast path: the
    verify gate of `make bench`), so parallel writers never lose an increment. Rows with the same
    key are summed first (PostgreSQL refuses to update a row twice in one statement). Column
    names from code, never from input."""
    totals: dict[tuple[Any, ...], list[Any]] = {}
    for row in rows:
        found = totals.setdefault(tuple(row[column] for column in key), [0, row[latest]])
        found[0] += row[count]
        found[1] = max(found[1], row[latest])
    if not totals:
        return
    db = engine()
    transaction = db.current_transaction.get()
    if transaction is None:
        raise RuntimeError("add_counts runs inside a transaction")
    sqlite = isinstance(db, SQLiteEngine)
    name = f'"{table._meta.tablename}"'
    names = ", ".join(f'"{column}"' for column in (*key, count, latest))
    width = len(key) + 2
    newest = "max" if sqlite else "greatest"  # SQLite's max() of two values is PostgreSQL's greatest()
    target = ", ".join(f'"{column}"' for column in key)
    head = f"INSERT INTO {name} ({names}) VALUES "  # noqa: S608 - names from code
    tail = (
        f' ON CONFLICT ({target}) DO UPDATE SET "{count}" = {name}."{count}" + excluded."{count}", '
        f'"{latest}" = {newest}({name}."{latest}", excluded."{latest}")'
    )
    items = list(totals.items())
    # One statement for up to a thousand keys: well within either engine's limit on bound values.
    for start in range(0, len(items), 1000):
        part = items[start : start + 1000]
        values = [value for found, (added, last) in part for value in (*found, added, last)]
        if sqlite:
            marks = ", ".join("(" + ", ".join("?" * width) + ")" for _ in part)
            async with transaction.connection.execute(head + marks + tail, values):
                pass
        else:
            marks = ", ".join(
                "(" + ", ".join(f"${n * width + i}" for i in range(1, width + 1)) + ")"
                for n in range(len(part))
            )
            await transaction.connection.execute(head + marks + tail, *values)
