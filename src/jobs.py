"""The periodic job runner: reminder emails every few minutes, beside the mail worker.

Running it in several processes at once is harmless (reminders are idempotent), and late runs
only delay the emails: access never depends on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from src.clock import today_in
from src.reminders import send_reminders
from src.settings import Settings

log = logging.getLogger("portal.jobs")


class ReminderJob:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.interval = settings.reminder_interval_seconds
        self._task: asyncio.Task[None] | None = None

    async def run_forever(self) -> None:
        # First run one interval after start: a process that restarts often does not rush reminders,
        # and nothing depends on them being early.
        while True:
            await asyncio.sleep(self.interval)
            try:
                await send_reminders(today_in(self.settings.tz))
            except Exception:
                log.exception("reminder job failed; it runs again at the next interval")

    def start(self) -> None:
        self._task = asyncio.create_task(self.run_forever(), name="reminders")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
