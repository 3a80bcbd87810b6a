"""The PostgreSQL pool: asyncpg's, with the timeouts that keep a stalled database from hanging a
request (src/db/pool.py opens it), and without asyncpg's reset on every release."""

from __future__ import annotations

from typing import Any

import asyncpg
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction


class _TimedPool(asyncpg.Pool):
    """asyncpg's pool whose `acquire()` waits at most `acquire_timeout` (a new connection's connect
    included) when its caller gives no timeout, as Piccolo never does."""

    __slots__ = ("acquire_timeout",)

    def acquire(self, *, timeout: float | None = None) -> Any:
        return super().acquire(timeout=self.acquire_timeout if timeout is None else timeout)


async def timed_pool(
    config: dict[str, Any], min_size: int, max_size: int, *, statement: float | None, acquire: float | None
) -> asyncpg.Pool:
    """What Piccolo's `start_connection_pool` makes (asyncpg's `create_pool`, whose defaults are
    spelled out here), as a `_TimedPool`, without asyncpg's reset on release: each statement may
    take `statement` seconds (its lock waits included), a request waits `acquire` seconds at most
    for a connection (None: no limit)."""
    connect = dict(config)
    if statement is not None:
        # The server cancels a statement that runs or waits for a lock too long (a clean error, the
        # connection stays usable); asyncpg's own timeout a second later covers a server or network
        # that stopped answering altogether. A startup parameter: no session state is set.
        connect["server_settings"] = {
            **connect.get("server_settings", {}),
            "statement_timeout": str(int(statement * 1000)),
        }
        connect["command_timeout"] = statement + 1
    pool = _TimedPool(
        min_size=min_size,
        max_size=max_size,
        max_queries=50000,
        max_inactive_connection_lifetime=300.0,
        loop=None,
        connection_class=asyncpg.Connection,
        record_class=asyncpg.Record,
        reset=keep_session_state,
        **connect,
    )
    pool.acquire_timeout = acquire
    return await pool


async def keep_session_state(connection: asyncpg.Connection) -> None:
    """The pool's reset when a connection is handed back: nothing more than asyncpg always does (end
    any transaction left open, drop listener callbacks). Fast path: the PostgreSQL server gates of
    `make bench` (pages >= 0.05 x /healthz, WEB_CONCURRENCY=2).

    asyncpg's default also sends `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;`
    on every release: an extra round trip and four statements for the server, after every query a
    page runs outside a transaction (each acquires and releases a connection). The portal never sets
    session settings, opens cursors outside a transaction, listens or takes advisory locks, so that
    reset has nothing to undo. tests/test_db_pool.py checks a handed-back connection, and that
    nothing in src/ sets session state."""


class _HandBackTransaction(PostgresTransaction):
    """Piccolo's PostgreSQL transaction, which always hands its connection back to the pool.

    Piccolo releases the connection only after a BEGIN, COMMIT or ROLLBACK that succeeded: one that
    failed (the statement timeout, or the network during a database outage) kept the connection out
    of the pool for good, and after `DB_POOL_MAX` such failures every request waited out the acquire
    timeout although the database was back. Here a connection whose transaction could not be ended
    cleanly is terminated (its state is unknown) and handed back, so the pool opens a fresh one."""

    async def __aenter__(self) -> PostgresTransaction:
        if self._parent is not None:
            return self._parent
        self.connection = await self.get_connection()
        try:
            self.transaction = self.connection.transaction()
            await self.begin()
        except BaseException:
            await self._hand_back(healthy=False)
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        healthy = False
        try:
            if exception:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
            healthy = True
        finally:
            self.engine.current_transaction.reset(self.context)
            await self._hand_back(healthy=healthy)
        return exception is None

    async def _hand_back(self, *, healthy: bool) -> None:
        if not healthy:
            self.connection.terminate()
        pool = self.engine.pool
        if pool is not None:
            await pool.release(self.connection)
        elif healthy:
            await self.connection.close()


class HandBackPostgresEngine(PostgresEngine):
    """Piccolo's PostgreSQL engine whose transactions always hand their connection back."""

    def transaction(self, allow_nested: bool = True) -> PostgresTransaction:
        return _HandBackTransaction(engine=self, allow_nested=allow_nested)
