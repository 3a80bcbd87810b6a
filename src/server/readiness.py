"""Whether this process should be sent requests (/readyz), and what it tells its open connections
once it is stopping.

/healthz says only that the process answers. /readyz also says 503 while the database or Redis
cannot be reached (every signed-in page would answer 503 then) or while the process is stopping, so
a load balancer that asks sends its requests elsewhere.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from src import db

if TYPE_CHECKING:
    from litestar.types import Message, Scope
    from redis.asyncio import Redis

log = logging.getLogger("portal.readiness")

# Each check waits this long at most; its answer is reused for a second, so a load balancer asking
# every second, from several places, costs one trivial statement and one PING a second.
CHECK_TIMEOUT_SECONDS = 2.0
ANSWER_SECONDS = 1.0


class _Process:
    stopping = False


_PROCESS = _Process()


def begin_stopping() -> None:
    """From now on this process is not ready, and every response closes its connection (SIGTERM)."""
    _PROCESS.stopping = True


def stopping() -> bool:
    return _PROCESS.stopping


async def close_when_stopping(message: Message, scope: Scope) -> None:
    """A `before_send` hook: once stopping, each response ends its connection ("Connection: close"),
    so the load balancer opens its next one to a process that is not stopping."""
    if _PROCESS.stopping and message["type"] == "http.response.start":
        message["headers"] = [*message["headers"], (b"connection", b"close")]


class Readiness:
    """The answer /readyz gives: None when ready, else what is missing ("stopping", "database
    unavailable", "Redis unavailable"). A change is logged once, naming the component."""

    def __init__(self, redis: Redis | None) -> None:
        self._redis = redis
        self._problem: str | None = None
        self._checked_at: float | None = None
        self._lock = asyncio.Lock()

    async def problem(self) -> str | None:
        if _PROCESS.stopping:
            return "stopping"
        if self._fresh():
            return self._problem
        async with self._lock:  # a burst of checks runs one and shares its answer
            if not self._fresh():
                self._record(*await self._check())
        return self._problem

    def _fresh(self) -> bool:
        return self._checked_at is not None and time.monotonic() - self._checked_at < ANSWER_SECONDS

    async def _check(self) -> tuple[str | None, list[Exception]]:
        problems: list[str] = []
        errors: list[Exception] = []
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
                await db.reachable()
        except Exception as exc:
            problems.append("database unavailable")
            errors.append(exc)
        if self._redis is not None:
            try:
                async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
                    await self._redis.ping()
            except Exception as exc:
                problems.append("Redis unavailable")
                errors.append(exc)
        return "; ".join(problems) or None, errors

    def _record(self, problem: str | None, errors: list[Exception]) -> None:
        """Keep the answer; log when it changes (a load balancer asks every second or so)."""
        if problem != self._problem:
            if problem is None:
                log.warning("ready again (was: %s)", self._problem)
            else:
                log.warning("not ready: %s (%s)", problem, "; ".join(repr(e) for e in errors))
        self._problem = problem
        self._checked_at = time.monotonic()
