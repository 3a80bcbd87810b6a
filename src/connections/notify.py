"""What a connection change tells the other side: an email through the outbox, inside the caller's
transaction (its AccessEvent is written by src/audit.py)."""

from __future__ import annotations

from typing import Any

from src.mail import enqueue
from src.tables.accounts import Account
from src.tables.connections import Connection


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
