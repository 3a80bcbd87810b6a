"""The sections about a learner's documents and what was done with them: the documents as issued,
the checks on the verify page, the problems reported and the printed copies ordered."""

from __future__ import annotations

from src.documents import printed, standing, verify_url
from src.exports.sections.section import Reader, Rows, Section, Window, today_for
from src.tables.accounts import Account, Role
from src.tables.documents import Document, VerifyTally
from src.tables.printing import PrintOrder
from src.tables.reports import Report


async def _documents(person: Account, reader: Reader, window: Window) -> Rows:
    if person.role != Role.learner.value:
        return []
    query = Document.select(*Document.all_columns(exclude=[Document.revoked_note])).where(
        Document.owner == person.id
    )
    documents = await window.of(query, Document.id).output(load_json=True)
    today = today_for(reader)
    return [
        {
            "id": d["id"],
            "kind": d["kind"],
            "title": d["title"],
            "qualification_code": d["qualification_code"],
            "level": d["level"],
            "name_as_printed": d["name_as_printed"],
            "grade": d["grade"],
            "awarded_on": d["awarded_on"],
            "valid_until": d["valid_until"],
            "certificate_number": d["certificate_number"],
            "verify_code": printed(d["verify_code"]),
            "verify_address": verify_url(reader.settings.verify_base, d["verify_code"]),
            "status": standing(d, today, reader.settings.tz).words,
            "revoked_at": d["revoked_at"],
            "revoked_reason": d["revoked_reason"],
            "superseded_by": d["superseded_by"],
            "superseded_at": d["superseded_at"],
            "show_on_verify_page": d["show_on_verify"],
            "issued_at": d["created_at"],
            "content_sha256": d["content_sha256"],
            "template_version": d["template_version"],
            "content": d["content"],  # JSON only (see Section.columns)
        }
        for d in documents
    ]


DOCUMENTS = Section(
    "documents",
    "your documents as issued: their facts, verify codes and addresses, and status today "
    "(the JSON file also holds each document's content exactly as it was issued)",
    (
        "id",
        "kind",
        "title",
        "qualification_code",
        "level",
        "name_as_printed",
        "grade",
        "awarded_on",
        "valid_until",
        "certificate_number",
        "verify_code",
        "verify_address",
        "status",
        "revoked_at",
        "revoked_reason",
        "superseded_by",
        "superseded_at",
        "show_on_verify_page",
        "issued_at",
        "content_sha256",
        "template_version",
    ),
    _documents,
)


async def _verify_checks(person: Account, reader: Reader, window: Window) -> Rows:
    if person.role != Role.learner.value:
        return []
    query = VerifyTally.select(
        VerifyTally.id,
        VerifyTally.document,
        VerifyTally.document.title.as_alias("document_title"),
        VerifyTally.day,
        VerifyTally.checks,
        VerifyTally.last_at,
    ).where(VerifyTally.document.owner == person.id)
    return await window.of(query, VerifyTally.id)  # type: ignore[no-any-return]


VERIFY_CHECKS = Section(
    "verify_checks",
    "how many times a day each of your documents was checked on the verify page (nothing about who checked)",
    ("id", "document", "document_title", "day", "checks", "last_at"),
    _verify_checks,
)


async def _reports(person: Account, reader: Reader, window: Window) -> Rows:
    query = Report.select(
        Report.id,
        Report.document,
        Report.document.title.as_alias("document_title"),
        Report.category,
        Report.message,
        Report.state,
        Report.answer,
        Report.answered_at,
        Report.closed_at,
        Report.created_at,
    ).where(Report.reporter == person.id)
    return await window.of(query, Report.id)  # type: ignore[no-any-return]


REPORTS = Section(
    "reports",
    "the problems you reported, and the answers",
    (
        "id",
        "document",
        "document_title",
        "category",
        "message",
        "state",
        "answer",
        "answered_at",
        "closed_at",
        "created_at",
    ),
    _reports,
)


async def _print_orders(person: Account, reader: Reader, window: Window) -> Rows:
    query = PrintOrder.select(
        PrintOrder.id,
        PrintOrder.document,
        PrintOrder.document.title.as_alias("document_title"),
        PrintOrder.state,
        PrintOrder.delivery_address,
        PrintOrder.billing_address,
        PrintOrder.created_at,
        PrintOrder.printed_at,
        PrintOrder.dispatched_at,
        PrintOrder.cancelled_at,
    ).where(PrintOrder.learner == person.id)
    return await window.of(query, PrintOrder.id).output(load_json=True)  # type: ignore[no-any-return]


PRINT_ORDERS = Section(
    "print_orders",
    "your orders of printed copies",
    (
        "id",
        "document",
        "document_title",
        "state",
        "delivery_address",
        "billing_address",
        "created_at",
        "printed_at",
        "dispatched_at",
        "cancelled_at",
    ),
    _print_orders,
)
