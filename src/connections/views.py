"""The views of a learner's documents, as the learner sees them: who opened one (a third party
through a connection, or staff on the staff page), a page at a time, newest first; how often it was
checked on the verify page (counts only: nobody, no address, no agent); what a third party is told
of their own views; and the opt-in weekly email that counts a week's views."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from piccolo.query.functions.aggregate import Count

from src.audit import AuditAction
from src.clock import long_date
from src.db import Paging, Row, Statement, fetch, fetch_one, write_transaction
from src.mail import enqueue_many
from src.tables.accounts import Account, Role
from src.tables.connections import AccessEvent

VIEWS_PAGE = 10
VIEWED = AuditAction.viewed_document.value


@dataclass
class ViewsPage:
    views: list[Row]  # each: id, at, connection (None for staff), first_name, last_name, company, staff
    page: int
    has_next: bool


@dataclass(frozen=True)
class VerifyChecks:
    times: int
    last_on: date | None  # the day of the latest check, in the portal's time zone


# One page of one document's views, newest first: read off the index access_event (document,
# action, at, id) in its own order, so page 1 costs the same for 1,000 views as for none (the
# document-page gate of `make bench`). The owner is in the query too: another learner's document
# has no views for this learner, whatever the caller checked before.
_VIEWS = Statement(
    'SELECT e."id", e."at", e."connection", a."first_name", a."last_name", '
    'a."company_name" AS "company", a."role" FROM "access_event" e '
    'JOIN "document" d ON d."id" = e."document" '
    'LEFT JOIN "account" a ON a."id" = e."account" '
    'WHERE e."document" = {} AND e."action" = {} AND d."owner" = {} '
    'ORDER BY e."at" DESC, e."id" DESC LIMIT {} OFFSET {}'
)


async def views_page(learner: Account, document_id: int, page: int = 1) -> ViewsPage:
    """Who opened the learner's document and when, newest first, a page at a time."""
    paging = Paging.of(page, VIEWS_PAGE)
    rows = await fetch(
        _VIEWS, document_id, VIEWED, learner.id, paging.size + 1, (paging.page - 1) * paging.size
    )
    views, has_next = paging.cut(rows)
    for view in views:
        view["staff"] = view["role"] == Role.staff.value
    return ViewsPage(views=views, page=paging.page, has_next=has_next)


# The verify checks of one document: the per-day tally (one row a day, off its unique (document,
# day) index) and the single checks written before the tally existed (off the document's index of
# events). Counts and days only: who checked is not recorded anywhere.
_CHECKS = Statement(
    'SELECT (SELECT COALESCE(SUM("checks"), 0) FROM "verify_tally" WHERE "document" = {}) AS "tallied", '
    '(SELECT MAX("day") FROM "verify_tally" WHERE "document" = {}) AS "last_day", '
    '(SELECT COUNT(*) FROM "access_event" WHERE "document" = {} AND "action" = {}) AS "single", '
    '(SELECT MAX("at") FROM "access_event" WHERE "document" = {} AND "action" = {}) AS "last_single"'
)


def _as_date(value: Any, tz: ZoneInfo) -> date | None:
    """An aggregate's day or time as a day in the portal's zone (SQLite gives aggregates back as text)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if len(value) > 10 else date.fromisoformat(value)
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(tz).date()
    return value if isinstance(value, date) else None


async def verify_checks(document_id: int, tz: ZoneInfo) -> VerifyChecks:
    """How many times the document was checked on its verify page, and the day of the latest check.
    The caller has read the document through its owner (a count says nothing about anyone)."""
    single = AuditAction.checked_on_the_verify_page.value
    row = await fetch_one(_CHECKS, document_id, document_id, document_id, single, document_id, single)
    assert row is not None  # sub-selects: always one row
    days = [d for d in (_as_date(row["last_day"], tz), _as_date(row["last_single"], tz)) if d]
    return VerifyChecks(times=int(row["tallied"]) + int(row["single"]), last_on=max(days, default=None))


async def views_by(viewer: Account, document_id: int) -> int:
    """How many times this person has opened this document (each one shown to its learner)."""
    return await AccessEvent.count().where(
        (AccessEvent.document == document_id)
        & (AccessEvent.action == VIEWED)
        & (AccessEvent.account == viewer.id)
    )


# --- the weekly email ------------------------------------------------------------------------


def week_before(today: date) -> tuple[date, date]:
    """The last whole week (Monday to Sunday) before the one `today` is in."""
    monday = today - timedelta(days=today.weekday())
    return monday - timedelta(days=7), monday - timedelta(days=1)


def _start_of(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tz).astimezone(UTC)


async def send_weekly_views(today: date, tz: ZoneInfo) -> int:
    """Queue "N views of your documents this week" for each learner who asked for it and whose
    documents were viewed last week (Monday to Sunday, in the portal's zone); returns how many.

    Safe to run every few minutes in several processes: the key names the account and the week, so
    the outbox's unique index keeps one email a week whoever queues it first; a week without views
    sends nothing."""
    first, last = week_before(today)
    viewed = (
        await AccessEvent.select(
            AccessEvent.document.owner.as_alias("owner"), Count(AccessEvent.id, alias="views")
        )
        .where(
            (AccessEvent.action == VIEWED)
            & (AccessEvent.at >= _start_of(first, tz))
            & (AccessEvent.at < _start_of(last + timedelta(days=1), tz))
            & AccessEvent.document.owner.is_in(
                Account.select(Account.id).where(
                    (Account.weekly_views_email == True)  # noqa: E712 - Piccolo's syntax
                    & Account.deleted_at.is_null()
                )
            )
        )
        .group_by(AccessEvent.document.owner)
    )
    if not viewed:
        return 0
    counts = {row["owner"]: int(row["views"]) for row in viewed}
    learners = await Account.objects().where(Account.id.is_in(list(counts)))
    emails = [
        (
            learner.email,
            "weekly_views",
            {
                "first_name": learner.first_name,
                "views": counts[learner.id],
                "first": long_date(first),
                "last": long_date(last),
            },
            f"weekly-views:{learner.id}:{first.isoformat()}",
        )
        for learner in learners
    ]
    async with write_transaction():
        await enqueue_many(emails)
    return len(emails)
