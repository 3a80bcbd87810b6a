"""Reading reports: a reporter's own (all, or those on one document) and the staff inbox."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from piccolo.query import OrderByRaw

from src.tables.accounts import Account
from src.tables.reports import Report, ReportState

INBOX_PAGE = 50
INBOX_FILTERS = {"all": "All", "open": "Open", "answered": "Answered", "closed": "Closed"}


def _columns() -> list[Any]:
    return [
        Report.id,
        Report.document,
        Report.connection,
        Report.category,
        Report.message,
        Report.state,
        Report.answer,
        Report.answered_at,
        Report.created_at,
        Report.version,
        Report.document.title.as_alias("document_title"),
        Report.reporter.first_name.as_alias("reporter_first"),
        Report.reporter.last_name.as_alias("reporter_last"),
        Report.reporter.company_name.as_alias("reporter_company"),
        Report.reporter.role.as_alias("reporter_role"),
    ]


async def by_reporter(reporter: Account, document_id: int | None = None) -> list[dict[str, Any]]:
    """The person's own reports, newest first (on one document when given)."""
    where: Any = Report.reporter == reporter.id
    if document_id is not None:
        where = where & (Report.document == document_id)
    return await Report.select(*_columns()).where(where).order_by(Report.id, ascending=False).limit(200)


@dataclass
class InboxPage:
    rows: list[dict[str, Any]]
    state: str
    page: int
    has_next: bool


async def inbox(state: str = "all", page: int = 1) -> InboxPage:
    """Staff inbox: open reports first, then answered, then closed; oldest first within each."""
    state = state if state in INBOX_FILTERS else "all"
    page = max(1, min(page, 100_000))
    query = Report.select(*_columns())
    if state != "all":
        query = query.where(Report.state == state)
    rows = (
        await query.order_by(
            OrderByRaw(
                f"CASE state WHEN '{ReportState.open.value}' THEN 0 "
                f"WHEN '{ReportState.answered.value}' THEN 1 ELSE 2 END"
            )
        )
        .order_by(Report.id)
        .limit(INBOX_PAGE + 1)
        .offset((page - 1) * INBOX_PAGE)
    )
    return InboxPage(rows[:INBOX_PAGE], state, page, len(rows) > INBOX_PAGE)


async def for_staff(report_id: int) -> dict[str, Any] | None:
    rows = await Report.select(*_columns(), Report.reporter.email.as_alias("reporter_email")).where(
        Report.id == report_id
    )
    return rows[0] if rows else None
