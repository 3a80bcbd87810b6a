"""The periodic job: "access ends in 7 days" and "access has ended" emails.

Safe to run late or twice: each email's idempotency key names the connection and its end date, so
a second run queues nothing new, and an extension (a new end date) earns a new reminder. Access
itself never depends on this job having run.
"""

from __future__ import annotations

from datetime import date, timedelta

from src.clock import long_date
from src.connections.notify import notify
from src.connections.queries import live_account
from src.connections.rules import ENDED, USABLE, display_name
from src.db import write_transaction
from src.tables.connections import Connection

REMIND_DAYS = 7
ENDED_LOOKBACK_DAYS = 30  # a job that was down for weeks does not email about ancient history


async def send_reminders(today: date) -> int:
    """Queue the due reminder emails; returns how many connections were looked at."""
    # Usable today and not REMIND_DAYS + 1 days on: the last day is within REMIND_DAYS.
    soon = await Connection.objects().where(
        USABLE.where(today) & ENDED.where(today + timedelta(days=REMIND_DAYS + 1))
    )
    # Ended by today, but still usable ENDED_LOOKBACK_DAYS ago.
    ended = await Connection.objects().where(
        ENDED.where(today) & USABLE.where(today - timedelta(days=ENDED_LOOKBACK_DAYS))
    )
    for connection in soon:
        async with write_transaction():
            learner = await live_account(connection.learner)
            await notify(
                connection,
                await live_account(connection.third_party),
                "access_ending",
                f"ending:{connection.expires_on}",
                other_name=display_name(learner, connection.learner_email),
                expires_on=long_date(connection.expires_on),
            )
    for connection in ended:
        async with write_transaction():
            learner = await live_account(connection.learner)
            third_party = await live_account(connection.third_party)
            await notify(
                connection,
                third_party,
                "access_ended",
                f"ended:{connection.expires_on}",
                other_name=display_name(learner, connection.learner_email),
                expires_on=long_date(connection.expires_on),
            )
            await notify(
                connection,
                learner,
                "access_ended",
                f"ended:{connection.expires_on}",
                other_name=display_name(third_party, connection.third_party_email),
                expires_on=long_date(connection.expires_on),
            )
    return len(soon) + len(ended)
