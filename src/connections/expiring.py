"""A third party's "Expiring soon": documents they can see today (shared in a connection the one
USABLE rule lets them use) that are valid until a day within the next 90 days, soonest first, and
how many there are for the dashboard. The document's validity ("valid until") and the connection's
end ("your access ends") are two dates and stay two columns.

The statements start from the documents in the validity window (the `document.valid_until` index)
and then look for a usable connection of this third party that shares each; SQLite, which has no
statistics, is held to that order by CROSS JOIN (PostgreSQL plans the joins itself). A third party
with 10,000 connections then costs what one with 10 does when few documents expire (the dashboard
gate of `make bench`); the cost grows with the documents expiring in the window instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from src.connections.rules import USABLE
from src.db import Paging, Row, Statement, fetch, fetch_one
from src.tables.accounts import Account
from src.tables.documents import DocumentStatus

EXPIRING_DAYS = 90
EXPIRING_PAGE = 25

_TABLES = 'FROM "document" d CROSS JOIN "shared_document" s CROSS JOIN "connection" '
_WHERE = (
    'WHERE d."valid_until" >= {} AND d."valid_until" <= {} AND d."status" = {} '
    'AND s."document" = d."id" AND "connection"."id" = s."connection" '
    f'AND "connection"."third_party" = {{}} AND {USABLE.sql()}'
)
_PAGE = Statement(
    'SELECT d."id", d."title", d."valid_until", "connection"."id" AS "connection_id", '
    '"connection"."expires_on", "connection"."learner_email", a."first_name", a."last_name" '
    f'{_TABLES}LEFT JOIN "account" a ON a."id" = "connection"."learner" {_WHERE} '
    'ORDER BY d."valid_until", d."id" LIMIT {} OFFSET {}'
)
_COUNT = Statement(f'SELECT COUNT(*) AS "n" {_TABLES}{_WHERE}')


@dataclass
class ExpiringPage:
    documents: list[Row]
    page: int
    has_next: bool


def _args(third_party: Account, today: date) -> list[object]:
    return [
        today,
        today + timedelta(days=EXPIRING_DAYS),
        DocumentStatus.valid.value,
        third_party.id,
        *USABLE.args(today),
    ]


async def expiring_page(third_party: Account, today: date, page: int = 1) -> ExpiringPage:
    """Documents this third party can see today that are valid until a day within 90 days, soonest first."""
    paging = Paging.of(page, EXPIRING_PAGE)
    rows = await fetch(_PAGE, *_args(third_party, today), paging.size + 1, (paging.page - 1) * paging.size)
    documents, has_next = paging.cut(rows)
    return ExpiringPage(documents=documents, page=paging.page, has_next=has_next)


async def expiring_count(third_party: Account, today: date) -> int:
    """How many documents the page above lists, for the dashboard."""
    row = await fetch_one(_COUNT, *_args(third_party, today))
    return int(row["n"]) if row else 0
