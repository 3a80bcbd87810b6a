"""The outbox as the mail worker sees it: rows queued through `src.mail.enqueue`, read and changed by
recipient, and waited for while a worker process sends them."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from src import mail
from src.clock import utcnow
from src.tables.outbox import OutboxEmail
from tests.support.client import run


def queue(recipient: str, key: str | None = None, template: str = "password_changed", **context: Any) -> None:
    context = context or {"first_name": "Tess"}
    run(mail.enqueue(recipient, template, context, key or f"test:{recipient}"))


def row_for(recipient: str) -> OutboxEmail:
    row = run(OutboxEmail.objects().where(OutboxEmail.recipient == recipient).first().run())
    assert row is not None, f"no outbox row for {recipient}"
    return row


def set_row(recipient: str, **values: Any) -> None:
    changes = {getattr(OutboxEmail, name): value for name, value in values.items()}
    run(OutboxEmail.update(changes).where(OutboxEmail.recipient == recipient).run())


def wait_until(check: Callable[[], Any], timeout: float = 10, what: str = "condition") -> Any:
    """Poll the database until check() gives something truthy; fail after the deadline. For work a
    mail worker does on its own schedule (the app's background task or a `portal worker` process)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout}s")
        time.sleep(0.05)


async def _unsent() -> int:
    """Rows a worker would still send now: pending and due, or being sent."""
    due = (OutboxEmail.state == "pending") & (OutboxEmail.next_attempt_at <= utcnow())
    return await OutboxEmail.count().where(due | (OutboxEmail.state == "sending"))  # type: ignore[no-any-return]


def stop_when_idle(worker: Any) -> None:
    """Stop a running mail worker (src.mail.MailWorker) once the outbox holds nothing it would send:
    every message it sent has then arrived and it sends no more, so "no more mail" is checked at
    once (tests/support/smtp.py's assert_no_more_mail) rather than by waiting for mail that might
    come. A row it keeps sending again never leaves "due" and fails the wait."""
    worker.poke()
    wait_until(lambda: run(_unsent()) == 0, what="nothing left for the worker to send")
    run(worker.stop())
