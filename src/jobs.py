"""The periodic job runner: work that runs every few minutes beside the mail worker (the reminder
emails, today).

Jobs must be safe to run in several processes at once and late (reminders are idempotent, and
access never depends on them): the runner only repeats the work and logs its failures.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger("portal.jobs")


class PeriodicJob:
    def __init__(self, name: str, interval: float, work: Callable[[], Awaitable[Any]]) -> None:
        self.name = name
        self.interval = interval
        self.work = work
        self._task: asyncio.Task[None] | None = None

    async def run_forever(self) -> None:
        # First run one interval after start: a process that restarts often does not rush the work,
        # and nothing depends on it being early.
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.work()
            except Exception:
                log.exception("job %s failed; it runs again at the next interval", self.name)

    def start(self) -> None:
        self._task = asyncio.create_task(self.run_forever(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
