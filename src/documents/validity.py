"""A document's own validity ending: the learner's reminders (90 and 30 days before its "valid
until" day, and the day after it passed) and the staff's count of documents expiring soon.

This is about the document, never about a connection: a connection's end is "your access ends" and
has reminders of its own (src/connections/reminders.py).

The job is safe to run late, twice, and in several processes at once: each email's idempotency key
names the document, the reminder and the "valid until" day, so the outbox's unique index keeps
exactly one of each whoever queues it first; a run that was down on the day still sends a reminder
that is due (the windows below), never one for a document that has already moved past it.
"""

from __future__ import annotations

from datetime import date, timedelta

from src.clock import long_date
from src.db import write_transaction
from src.mail import enqueue_many
from src.tables.documents import Document, DocumentStatus

# Which reminder is due, by how many days are left until the "valid until" day (negative: passed).
# 90: from 90 days before until 31 days before; 30: from 30 days before to the day itself;
# passed: from the day after for ENDED_LOOKBACK_DAYS (a job down for weeks does not email about
# ancient history). A document issued with 40 days left gets the 90-day reminder, then the 30-day one.
EARLY, LATE = 90, 30
ENDED_LOOKBACK_DAYS = 30
BATCH = 500


def due_reminder(valid_until: date, today: date) -> str | None:
    """The reminder due today for a document valid until that day: "90", "30", "passed" or None."""
    left = (valid_until - today).days
    if LATE < left <= EARLY:
        return str(EARLY)
    if 0 <= left <= LATE:
        return str(LATE)
    if -ENDED_LOOKBACK_DAYS <= left < 0:
        return "passed"
    return None


async def send_validity_reminders(today: date) -> int:
    """Queue the due validity emails to learners; returns how many documents were looked at."""
    documents = (
        await Document.select(
            Document.id,
            Document.title,
            Document.valid_until,
            Document.owner.email.as_alias("email"),
            Document.owner.first_name.as_alias("first_name"),
        )
        .where(
            (Document.valid_until >= today - timedelta(days=ENDED_LOOKBACK_DAYS))
            & (Document.valid_until <= today + timedelta(days=EARLY))
            & (Document.status == DocumentStatus.valid.value)
            & Document.owner.deleted_at.is_null()
        )
        .order_by(Document.id)
    )
    emails = []
    for document in documents:
        which = due_reminder(document["valid_until"], today)
        if which is None:  # the query reads the windows' outer bounds; the rule decides
            continue
        emails.append(
            (
                document["email"],
                "document_validity_passed" if which == "passed" else "document_validity_ending",
                {
                    "first_name": document["first_name"],
                    "title": document["title"],
                    "document_id": document["id"],
                    "valid_until": long_date(document["valid_until"]),
                    "days_left": (document["valid_until"] - today).days,
                },
                f"validity:{document['id']}:{which}:{document['valid_until'].isoformat()}",
            )
        )
    for start in range(0, len(emails), BATCH):
        async with write_transaction():
            await enqueue_many(emails[start : start + BATCH])
    return len(documents)


async def expiring_within(today: date, days: int) -> int:
    """For staff: how many valid documents are valid until a day from today to `days` days on."""
    return await Document.count().where(
        (Document.valid_until >= today)
        & (Document.valid_until <= today + timedelta(days=days))
        & (Document.status == DocumentStatus.valid.value)
    )
