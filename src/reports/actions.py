"""Changes to reports: send one (within the limits, counted atomically), answer it, close it. Each is
one write transaction with its emails in the outbox; answer and close are compare-and-sets on the
state, so two members of staff answering at once give one answer and one email."""

from __future__ import annotations

from datetime import datetime

from src.clock import utcnow
from src.db import compare_and_set, lock_row, write_transaction
from src.errors import Conflict, Refused
from src.mail import enqueue
from src.reports.rules import DAY, PER_DAY, PER_DOCUMENT, categories_for, clean
from src.tables.accounts import Account
from src.tables.documents import Document
from src.tables.reports import Report, ReportState


def _name(account: Account) -> str:
    name = f"{account.first_name} {account.last_name}".strip()
    return f"{name} ({account.company_name})" if account.company_name else name


async def _counts(reporter_id: int, document_id: int, since: datetime) -> tuple[int, int]:
    recent = await Report.count().where((Report.reporter == reporter_id) & (Report.created_at >= since))
    on_document = await Report.count().where(
        (Report.reporter == reporter_id) & (Report.document == document_id)
    )
    return recent, on_document


async def submit(
    reporter: Account, document: Document, connection_id: int | None, category: str, message: str
) -> Report:
    """Send a report on a document the caller has checked this person may see. Raises Refused
    (and queues no email) when the person has sent too many, or for a category their role is not
    offered (a learner's "My name is wrong" from a third party).

    The count and the insert happen under one lock on the reporter's account row (PostgreSQL) or in
    one BEGIN IMMEDIATE transaction (SQLite), so parallel requests cannot all pass the count."""
    offered = categories_for(third_party=connection_id is not None)
    if category not in offered:
        raise Refused("Choose one of the problems listed here", "category")
    now = utcnow()
    async with write_transaction():
        await lock_row(Account, reporter.id)
        today_count, document_count = await _counts(reporter.id, document.id, now - DAY)
        if document_count >= PER_DOCUMENT:
            raise Refused(
                f"You have already sent {PER_DOCUMENT} reports on this document. "
                "We will answer them; you can follow them on Your reports."
            )
        if today_count >= PER_DAY:
            raise Refused(
                f"You have sent {PER_DAY} reports in the last 24 hours, the most you can send. Try again tomorrow."
            )
        report = Report(
            document=document.id,
            reporter=reporter.id,
            connection=connection_id,
            category=category,
            message=clean(message),
        )
        await report.save()
        facts = {"document_title": document.title, "report_id": report.id}
        await enqueue(
            reporter.email,
            "report_received",
            {
                **facts,
                "first_name": reporter.first_name,
                "category": offered[category],
                "message": report.message,
            },
            f"report:{report.id}:received",
        )
        if document.owner != reporter.id:
            owner = await Account.by_id(document.owner)
            if owner is not None:
                # The learner hears that someone reported a problem, never what they wrote.
                await enqueue(
                    owner.email,
                    "report_on_your_document",
                    {**facts, "first_name": owner.first_name, "reporter": _name(reporter)},
                    f"report:{report.id}:owner",
                )
    return report


async def answer(staff: Account, report_id: int, text: str) -> None:
    """Answer an open report and email the answer to the reporter; Conflict when it is no longer open."""
    async with write_transaction():
        report = await Report.objects().where(Report.id == report_id).first()
        if report is None or report.state != ReportState.open.value:
            raise Conflict()
        won = await compare_and_set(
            Report,
            report.id,
            {Report.state: ReportState.open.value, Report.version: report.version},
            {
                Report.state: ReportState.answered.value,
                Report.answer: clean(text),
                Report.answered_by: staff.id,
                Report.answered_at: utcnow(),
                Report.version: report.version + 1,
            },
        )
        if not won:
            raise Conflict()
        reporter = await Account.by_id(report.reporter)
        document = await Document.objects().where(Document.id == report.document).first()
        if reporter is not None and document is not None:
            await enqueue(
                reporter.email,
                "report_answered",
                {
                    "first_name": reporter.first_name,
                    "document_title": document.title,
                    "report_id": report.id,
                    "answer": clean(text),
                },
                f"report:{report.id}:answered",
            )


async def close(report_id: int) -> None:
    """Close an answered report; Conflict when it is not (or no longer) answered."""
    async with write_transaction():
        report = await Report.objects().where(Report.id == report_id).first()
        if report is None or report.state != ReportState.answered.value:
            raise Conflict()
        won = await compare_and_set(
            Report,
            report.id,
            {Report.state: ReportState.answered.value, Report.version: report.version},
            {
                Report.state: ReportState.closed.value,
                Report.closed_at: utcnow(),
                Report.version: report.version + 1,
            },
        )
        if not won:
            raise Conflict()
