"""OutboxEmail: an email written in the same transaction as the change that causes it."""

from __future__ import annotations

from piccolo.columns import JSON, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class OutboxEmail(Table):
    id: Serial  # added by Piccolo; declared for type checkers
    recipient = Varchar(length=254)
    template = Varchar(length=100)
    context = JSON(default="{}")
    # Re-processing the same event never adds a second email: the key is unique.
    idempotency_key = Varchar(length=200, unique=True)
    state = Varchar(length=12, default="pending", index=True)  # pending | sending | sent | failed
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=TimestamptzNow(), index=True)
    lease_until = Timestamptz(null=True, default=None)
    # The sender's random claim token: only it renews the lease while it sends.
    claimed_by = Varchar(length=32, default="")
    # Mail a person is waiting for (a reset link) goes before a batch of reminders: higher first.
    priority = Integer(default=0, index=True)
    last_error = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)
