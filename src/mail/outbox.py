"""Writing emails to the outbox, inside the caller's transaction.

Call `enqueue` within the same `write_transaction()` as the change that causes the email: both
commit together or neither does. The idempotency key names the event (e.g. "verify:42:3"), so
running the same event twice never queues a second email.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Litestar

from src.tables.outbox import OutboxEmail


def minute_key() -> str:
    """Part of an idempotency key: a double click within a minute queues one email, not two."""
    return datetime.now(UTC).strftime("%Y%m%d%H%M")


async def enqueue(recipient: str, template: str, context: dict[str, Any], idempotency_key: str) -> bool:
    """Queue one email; returns False when an email with this key was already queued."""
    exists = await OutboxEmail.exists().where(OutboxEmail.idempotency_key == idempotency_key)
    if exists:
        return False
    await OutboxEmail.insert(
        OutboxEmail(
            recipient=recipient,
            template=template,
            context=context,
            idempotency_key=idempotency_key,
        )
    )
    return True


def poke_worker(app: Litestar) -> None:
    """Tell the in-process worker, if any, that mail waits (call after the transaction commits)."""
    worker = getattr(app.state, "mail_worker", None)
    if worker is not None:
        worker.poke()
