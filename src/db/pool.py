"""The database engine and its connections.

SQLite: WAL and a busy timeout on every connection. Between
`open_pool()` and `close_pool()` (the app's lifespan, the worker) queries run on a few long-lived
connections instead of Piccolo's new connection and thread per query, and reads of a few indexed
rows run inline on a read connection per thread (src/db/reads.py). PostgreSQL: a pool opened and
closed in the app's lifespan (src/db/postgres_pool.py).

While the pool is open, a request never waits on the database for as long as it stalls: the wait
for a pooled connection and each statement (its lock waits included) are bounded by the settings'
timeouts, and past them the error is one src/errors.py answers with 503 "try again shortly".

The Piccolo internals overridden here are fast paths, each naming the `make bench` gate it serves
(README "Fast paths"; the measurements are in bench/README.md).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections import deque
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiosqlite
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType
from piccolo.querystring import QueryString

from src.db.postgres_pool import timed_pool
from src.db.rows import row_factory

if TYPE_CHECKING:
    from piccolo.engine.base import Engine
    from piccolo.table import Table

BUSY_TIMEOUT_SECONDS = 15
# The inline read connections' busy timeout: they run on the event loop, so they never wait long
# (in WAL a reader waits only in rare moments, e.g. while another connection recovers the WAL).
READ_BUSY_TIMEOUT_SECONDS = 0.05


@dataclass(frozen=True)
class Timeouts:
    """How long a request may wait on the database while the pool is open, in seconds: each
    statement (its lock waits included) and the wait for a pooled connection. None: no limit, as
    for migrations and one-off scripts, which run without the pool."""

    statement: float | None = None
    acquire: float | None = None


class _PooledTransaction(SQLiteTransaction):
    """Piccolo's SQLite transaction on a pooled connection, handed back (not closed) at the end."""

    async def get_connection(self) -> aiosqlite.Connection:
        engine: PooledSQLiteEngine = self.engine  # type: ignore[assignment]
        return await engine.acquire()

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        self.connection = await self.get_connection()
        try:
            await self.begin()
        except BaseException as exc:
            # BEGIN IMMEDIATE refused past the busy timeout (another connection holds the write
            # lock): no __aexit__ follows, so the connection goes back here or its slot is lost for
            # good. Cancelled mid-BEGIN, it may hold a transaction: closed instead.
            engine: PooledSQLiteEngine = self.engine  # type: ignore[assignment]
            await engine.release(self.connection, healthy=isinstance(exc, sqlite3.Error))
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

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

    A process serves on one event loop: one semaphore bounds the connections in use (made anew each
    time the pool opens); the idle list is guarded by a thread lock, since read connections are
    per thread.
    Piccolo has no pool hook for SQLite, so this overrides the two places it opens connections: a
    query outside a transaction, and a transaction (fast path: the server gate of `make bench`,
    SQLite pages >= 0.10 x /healthz)."""

    def __init__(self, path: str, **connection_kwargs: Any) -> None:
        super().__init__(path=path, **connection_kwargs)
        self._idle: deque[aiosqlite.Connection] = deque()
        self._lock = threading.Lock()
        self._max_size = 0  # 0: the pool is closed, a connection per query as Piccolo does
        self._slots = asyncio.Semaphore(0)  # connections that may be in use; sized by start_pool
        self._limits = Timeouts()
        # One read connection per thread (see reader()); all of them, to close with the pool.
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._generation = 0

    @property
    def pooling(self) -> bool:
        return self._max_size > 0

    def start_pool(self, max_size: int, limits: Timeouts | None = None) -> None:
        self._max_size = max(max_size, 1)
        self._slots = asyncio.Semaphore(self._max_size)
        self._limits = limits or Timeouts()

    async def stop_pool(self) -> None:
        self._max_size = 0
        with self._lock:
            idle, self._idle = list(self._idle), deque()
            readers, self._readers = self._readers, []
            self._generation += 1
        for connection in idle:
            await connection.close()
        for reader in readers:
            reader.close()

    def reader(self) -> sqlite3.Connection | None:
        """This thread's read connection while the pool is open (None otherwise), for src/db/reads.py:
        autocommit (each statement reads the latest commit), query_only, the same sqlite3 type
        converters as Piccolo's connections and a short busy timeout. Opened on first use and closed
        with the pool, so a test that makes a new database file never reads the old one."""
        if not self.pooling:
            return None
        local = self._local
        if getattr(local, "generation", None) == self._generation:
            return local.connection  # type: ignore[no-any-return]
        connection = sqlite3.connect(
            self.path,
            timeout=READ_BUSY_TIMEOUT_SECONDS,
            detect_types=sqlite3.PARSE_DECLTYPES | sqlite3.PARSE_COLNAMES,
            isolation_level=None,
            check_same_thread=False,  # used by its own thread only; closed by stop_pool's
        )
        connection.row_factory = row_factory
        connection.execute("PRAGMA query_only = ON")
        with self._lock:
            self._readers.append(connection)
            local.connection, local.generation = connection, self._generation
        return connection

    async def acquire(self) -> aiosqlite.Connection:
        if not self.pooling:
            return await super().get_connection()
        semaphore = self._slots
        try:
            async with asyncio.timeout(self._limits.acquire):
                await semaphore.acquire()
        except TimeoutError:
            raise TimeoutError(f"no database connection free within {self._limits.acquire} s") from None
        try:
            with self._lock:
                connection = self._idle.pop() if self._idle else None
            if connection is None:
                connection = await super().get_connection()  # row factory and foreign keys, once
                # WAL's recommended setting: a commit no longer waits for fsync; still safe against
                # a crash of the process, the last commits may be lost only if the machine itself
                # loses power.
                await connection.execute("PRAGMA synchronous = NORMAL")
                if self._limits.statement is not None:
                    # The stall SQLite has is a lock another connection holds (a long import, a
                    # backup, a stuck process): a statement waits for it this long, then fails
                    # "database is locked". Statements themselves are indexed and short.
                    await connection.execute(f"PRAGMA busy_timeout = {int(self._limits.statement * 1000)}")
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
        # connection already has it (set once when it was opened). Fast path: the CSV import gate
        # of `make bench` (thousands of statements in one transaction) and every write.
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


@cache
def engine() -> Engine:
    """The engine every table uses: piccolo_conf's DB, which Piccolo gives each table as it is
    defined. Found once (it is asked on every read)."""
    found = engine_finder()
    if found is None:
        raise LookupError("piccolo_conf defines no DB")
    return found


def engine_kind() -> str:
    """ "sqlite" or "postgres", for the rare statement whose SQL differs (SKIP LOCKED)."""
    return "sqlite" if isinstance(engine(), SQLiteEngine) else "postgres"


async def open_pool(min_size: int = 2, max_size: int = 10, limits: Timeouts | None = None) -> bool:
    """Open the pool (max_size 0: no pool, a connection per query) with its timeouts; True when this
    call opened it, so only its opener closes it (a second app in the same process uses the open
    one). SQLite: also switch the file to WAL (persistent, so once is enough)."""
    db = engine()
    limits = limits or Timeouts()
    if isinstance(db, SQLiteEngine):
        await db.run_ddl("PRAGMA journal_mode = WAL")
        if isinstance(db, PooledSQLiteEngine) and max_size > 0 and not db.pooling:
            db.start_pool(max_size, limits)
            return True
    elif isinstance(db, PostgresEngine) and max_size > 0 and db.pool is None:
        db.pool = await timed_pool(
            db.config, min(min_size, max_size), max_size, statement=limits.statement, acquire=limits.acquire
        )
        return True
    return False


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


async def reachable() -> None:
    """Raise unless the database answers a trivial statement (/readyz; the caller bounds the wait).

    PostgreSQL: `SELECT 1` on a pooled connection (a new one when the old ones were cut). SQLite: the
    file opened anew and its schema read, since the connections a process holds keep reading a file
    that was deleted or moved, or whose disk went away, while the next process would not find it."""
    db = engine()
    if isinstance(db, SQLiteEngine):
        await asyncio.to_thread(_open_sqlite_file, db.path)
    else:
        await db.run_querystring(QueryString("SELECT 1"))


def _open_sqlite_file(path: str) -> None:
    uri = Path(path).resolve().as_uri() + "?mode=rw"  # never creates a file
    connection = sqlite3.connect(uri, uri=True, timeout=READ_BUSY_TIMEOUT_SECONDS)
    try:
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    finally:
        connection.close()
