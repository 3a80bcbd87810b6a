"""Writing emails to the outbox, inside the caller's transaction.

Call `enqueue` within the same `write_transaction()` as the change that causes the email: both
commit together or neither does. The idempotency key names the event (e.g. "verify:42:3"), so
running the same event twice never queues a second email.
"""

from __future__ import annotations

import json
from typing import Any

from litestar import Litestar

from src.clock import utcnow
from src.db import insert_many
from src.tables.outbox import OutboxEmail


def minute_key() -> str:
    """Part of an idempotency key: a double click within a minute queues one email, not two."""
    return utcnow().strftime("%Y%m%d%H%M")


# Emails a person is waiting for on screen ("we sent you a link"): sent before any queue of reminders.
WAITED_FOR = frozenset(
    {"activate_account", "already_registered", "confirm_email_change", "reset_password", "verify_email"}
)
URGENT, ROUTINE = 1, 0


async def enqueue(recipient: str, template: str, context: dict[str, Any], idempotency_key: str) -> bool:
    """Queue one email; returns False when an email with this key was already queued.

    One statement, INSERT … ON CONFLICT DO NOTHING: a double-submitted form whose two requests
    race (in two processes, say) queues one email and neither request fails on the unique key."""
    inserted = await (
        OutboxEmail.insert(
            OutboxEmail(
                recipient=recipient,
                template=template,
                context=context,
                idempotency_key=idempotency_key,
                priority=URGENT if template in WAITED_FOR else ROUTINE,
            )
        )
        .on_conflict(target=OutboxEmail.idempotency_key, action="DO NOTHING")
        .returning(OutboxEmail.id)
    )
    return bool(inserted)


def poke_worker(app: Litestar) -> None:
    """Tell the in-process worker, if any, that mail waits (call after the transaction commits)."""
    worker = getattr(app.state, "mail_worker", None)
    if worker is not None:
        worker.poke()


async def enqueue_many(emails: list[tuple[str, str, dict[str, Any], str]]) -> None:
    """Queue many emails (recipient, template, context, idempotency key) with one prepared statement,
    inside the caller's transaction; a key already queued (or repeated in the list) is left out by
    the unique index, with no read before (this runs while a CSV import holds the write lock)."""
    now = utcnow()
    await insert_many(
        OutboxEmail,
        [
            {
                "recipient": recipient,
                "template": template,
                "context": json.dumps(context, ensure_ascii=False),
                "idempotency_key": key,
                "priority": URGENT if template in WAITED_FOR else ROUTINE,
                "state": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "last_error": "",
                "created_at": now,
            }
            for recipient, template, context, key in emails
        ],
        unless_taken="idempotency_key",
    )
