"""What a connection change leaves behind: an email to one side (through the outbox, inside the
caller's transaction) and an AccessEvent in the audit log."""

from __future__ import annotations

from typing import Any

from src.mail import enqueue
from src.tables.accounts import Account
from src.tables.connections import AccessEvent, Connection


async def notify(
    connection: Connection, recipient: Account | None, template: str, key: str, **context: Any
) -> None:
    """Queue one email to a side of the connection that has an account (inside the caller's transaction)."""
    if recipient is None:
        return
    await enqueue(
        recipient.email,
        template,
        {"first_name": recipient.first_name, "connection_id": connection.id, **context},
        f"connection:{connection.id}:{key}:{recipient.id}",
    )


async def log_event(
    actor: Account | None,
    action: str,
    connection_id: int | None,
    document_id: int | None = None,
    detail: str = "",
) -> int:
    """Write one AccessEvent; its id is the short reference a viewer's watermark shows."""
    event = AccessEvent(
        account=actor.id if actor else None,
        action=action,
        connection=connection_id,
        document=document_id,
        detail=detail[:200],
    )
    await event.save()
    return int(event.id)
