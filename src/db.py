"""The database engine, and the one way to open a write transaction on either engine.

SQLite: WAL and a busy timeout on every connection, and BEGIN IMMEDIATE for transactions that read
then write (a deferred one upgrades its lock too late and gets "database is locked"). Between
`open_pool()` and `close_pool()` (the app's lifespan, the worker) queries run on a few long-lived
connections instead of Piccolo's new connection and thread per query, which cost ~70 % of a page.
PostgreSQL: a pool opened and closed in the app's lifespan.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections import deque
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiosqlite
import asyncpg
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from piccolo.columns import Column
    from piccolo.engine.base import Engine
    from piccolo.table import Table

BUSY_TIMEOUT_SECONDS = 15


class _PooledTransaction(SQLiteTransaction):
    """Piccolo's SQLite transaction on a pooled connection, handed back (not closed) at the end."""

    async def get_connection(self) -> aiosqlite.Connection:
        engine: PooledSQLiteEngine = self.engine  # type: ignore[assignment]
        return await engine.acquire()

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        engine: PooledSQLiteEngine = self.engine  # type: ignore[assignment]
        healthy = False
        try:
            if exception:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
            healthy = True
        finally:
            # A connection whose COMMIT/ROLLBACK was cancelled or failed may still hold a transaction:
            # it is closed, never handed to the next request.
            engine.current_transaction.reset(self.context)
            await engine.release(self.connection, healthy=healthy)
        return exception is None


class PooledSQLiteEngine(SQLiteEngine):
    """SQLiteEngine that reuses up to `max_size` open connections (foreign keys set once, sqlite3's
    `timeout` as the busy timeout) while the pool is open, and behaves exactly like Piccolo's engine
    otherwise (migrations, one-off scripts).

    The idle list is shared across event loops (a connection's worker thread answers whichever loop
    asked), guarded by a thread lock; each loop bounds its own connections in use with a semaphore.
    Piccolo has no pool hook for SQLite, so this overrides the two places it opens connections: a
    query outside a transaction, and a transaction."""

    def __init__(self, path: str, **connection_kwargs: Any) -> None:
        super().__init__(path=path, **connection_kwargs)
        self._idle: deque[aiosqlite.Connection] = deque()
        self._lock = threading.Lock()
        self._max_size = 0  # 0: the pool is closed, a connection per query as Piccolo does
        self._slots: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}

    @property
    def pooling(self) -> bool:
        return self._max_size > 0

    def start_pool(self, max_size: int) -> None:
        self._max_size = max(max_size, 1)

    async def stop_pool(self) -> None:
        self._max_size = 0
        with self._lock:
            idle, self._idle = list(self._idle), deque()
            self._slots.clear()
        for connection in idle:
            await connection.close()

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        with self._lock:
            for other in [other for other in self._slots if other.is_closed()]:
                del self._slots[other]
            semaphore = self._slots.get(loop)
            if semaphore is None:
                semaphore = self._slots[loop] = asyncio.Semaphore(self._max_size)
        return semaphore

    async def acquire(self) -> aiosqlite.Connection:
        if not self.pooling:
            return await super().get_connection()
        semaphore = self._semaphore()
        await semaphore.acquire()
        try:
            with self._lock:
                connection = self._idle.pop() if self._idle else None
            if connection is None:
                connection = await super().get_connection()  # row factory and foreign keys, once
                # WAL's recommended setting: a commit no longer waits for fsync (8 ms a write on this
                # disk); still safe against a crash of the process, the last commits may be lost
                # only if the machine itself loses power.
                await connection.execute("PRAGMA synchronous = NORMAL")
        except BaseException:
            semaphore.release()
            raise
        connection.portal_semaphore = semaphore  # type: ignore[attr-defined]
        return connection

    async def release(self, connection: aiosqlite.Connection, *, healthy: bool) -> None:
        """Hand a connection back, or close it: when the pool is closed or full, or when it may still
        hold a transaction (its COMMIT/ROLLBACK failed or was cancelled)."""
        semaphore = getattr(connection, "portal_semaphore", None)
        if semaphore is not None:
            connection.portal_semaphore = None  # type: ignore[attr-defined]
            semaphore.release()
        if healthy and self.pooling:
            with self._lock:
                if len(self._idle) < self._max_size:
                    self._idle.append(connection)
                    return
        try:
            await connection.close()
        except BaseException:
            connection.stop()  # cancelled while closing: its thread still closes it and ends
            raise

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: type[Table] | None = None,
    ) -> Any:
        if not self.pooling:
            return await super()._run_in_new_connection(query, args, query_type, table)
        connection = await self.acquire()
        healthy = False
        try:
            # isolation_level None: each statement commits on its own, as in Piccolo's version.
            async with connection.execute(query, args or []) as cursor:
                rows = await cursor.fetchall()
            healthy = True
            return rows
        except sqlite3.Error:
            healthy = True  # a refused statement (a unique index, a lock) leaves the connection usable
            raise
        finally:
            await self.release(connection, healthy=healthy)

    async def _run_in_existing_connection(
        self,
        connection: Any,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: type[Table] | None = None,
    ) -> Any:
        # Piccolo re-runs "PRAGMA foreign_keys" before every statement in a transaction; the
        # connection already has it (set once when it was opened).
        async with connection.execute(query, args or []) as cursor:
            return await cursor.fetchall()

    def transaction(
        self, transaction_type: TransactionType = TransactionType.deferred, allow_nested: bool = True
    ) -> SQLiteTransaction:
        return _PooledTransaction(engine=self, transaction_type=transaction_type, allow_nested=allow_nested)


def engine_from_url(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        # sqlite3's own timeout is the busy timeout, applied on every new connection.
        return PooledSQLiteEngine(path=str(path), timeout=BUSY_TIMEOUT_SECONDS)
    if url.startswith(("postgres://", "postgresql://")):
        return PostgresEngine(config={"dsn": url})
    raise ValueError("DATABASE_URL must start with sqlite:/// or postgresql://")


def engine() -> Engine:
    from src.tables.accounts import Account

    return Account._meta.db


def engine_kind() -> str:
    """ "sqlite" or "postgres", for the rare statement whose SQL differs (SKIP LOCKED)."""
    return "sqlite" if isinstance(engine(), SQLiteEngine) else "postgres"


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
    """Open the pool (max_size 0: no pool, a connection per query). SQLite: also switch the file to
    WAL (persistent, so once is enough)."""
    db = engine()
    if isinstance(db, SQLiteEngine):
        await db.run_ddl("PRAGMA journal_mode = WAL")
        if isinstance(db, PooledSQLiteEngine) and max_size > 0:
            db.start_pool(max_size)
    elif isinstance(db, PostgresEngine) and max_size > 0 and db.pool is None:
        await db.start_connection_pool(min_size=min(min_size, max_size), max_size=max_size)


async def close_pool(grace_seconds: float = 10.0) -> None:
    """Close the pool, waiting at most `grace_seconds` for queries in flight, then terminate it: shutting
    down must never hang on a connection that a cancelled task did not give back."""
    db = engine()
    if isinstance(db, PooledSQLiteEngine):
        await db.stop_pool()
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
