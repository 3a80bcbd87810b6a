"""The learner's activity log: who did what and when on their connections, and how many times a
day each of their documents was checked on the public verify page; and what a third party is
recorded as having viewed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from src import audit
from src.audit import AuditAction
from src.db import Paging
from src.tables.accounts import Account
from src.tables.connections import AccessEvent
from src.tables.documents import VerifyTally

ACTIVITY_PAGE = 50


@dataclass
class ActivityPage:
    events: list[dict[str, Any]]  # each with its kind: "event" (AccessEvent) or "tally" (VerifyTally)
    page: int
    has_next: bool


# The page's order: the learner's events and their documents' daily verify counts, interleaved
# newest first (a count sorts by its latest check). Only kinds, ids and times: the rows are then
# read by id with Piccolo, each with its own types on either engine. Events on no connection that
# are about the learner's documents: staff views, and single verify checks from before the tally.
_EVENTS = """
SELECT 'event' AS kind, e."id" AS id, e."at" AS sort_at FROM "access_event" e
LEFT JOIN "connection" c ON c."id" = e."connection"
LEFT JOIN "document" d ON d."id" = e."document"
WHERE (c."learner" = {} OR (e."connection" IS NULL AND e."action" IN ({}, {}) AND d."owner" = {}))"""
_TALLIES = """
UNION ALL
SELECT 'tally', t."id", t."last_at" FROM "verify_tally" t
JOIN "document" d ON d."id" = t."document"
WHERE d."owner" = {}"""
_EVENTS_OF_ONE = ' AND e."document" = {}'
_TALLIES_OF_ONE = ' AND t."document" = {}'
_LIMIT = """
ORDER BY sort_at DESC, id DESC LIMIT {} OFFSET {}
"""
ORDER = _EVENTS + _TALLIES + _LIMIT
ORDER_FOR_DOCUMENT = _EVENTS + _EVENTS_OF_ONE + _TALLIES + _TALLIES_OF_ONE + _LIMIT


async def activity_page(learner: Account, page: int = 1, document_id: int | None = None) -> ActivityPage:
    """Who did what and when on the learner's connections and documents, and how often each of their
    documents was checked on the verify page each day, newest first; with `document_id` (one of the
    learner's: the caller checks), only what is about that document."""
    paging = Paging.of(page, ACTIVITY_PAGE)
    # Single checks as they were written before the daily counts: still shown where they fall.
    on_documents = (AuditAction.checked_on_the_verify_page.value, AuditAction.viewed_document.value)
    if document_id is None:
        order = await AccessEvent.raw(
            ORDER, learner.id, *on_documents, learner.id, learner.id, *_window(paging)
        )
    else:
        order = await AccessEvent.raw(
            ORDER_FOR_DOCUMENT,
            learner.id,
            *on_documents,
            learner.id,
            document_id,
            learner.id,
            document_id,
            *_window(paging),
        )
    order, has_next = paging.cut(order)
    found = await _events([o["id"] for o in order if o["kind"] == "event"])
    found.update(await _tallies([o["id"] for o in order if o["kind"] == "tally"]))
    # A row gone between the two reads (its document deleted) is left out, not an error.
    events = [found[key] for key in ((o["kind"], o["id"]) for o in order) if key in found]
    return ActivityPage(events=events, page=paging.page, has_next=has_next)


def _window(paging: Paging) -> tuple[int, int]:
    return paging.size + 1, (paging.page - 1) * paging.size


async def _events(ids: list[int]) -> dict[tuple[str, int], dict[str, Any]]:
    if not ids:
        return {}
    rows = await AccessEvent.select(
        AccessEvent.id,
        AccessEvent.account,
        AccessEvent.action,
        AccessEvent.at,
        AccessEvent.detail,
        AccessEvent.connection,
        AccessEvent.account.first_name.as_alias("first_name"),
        AccessEvent.account.last_name.as_alias("last_name"),
        AccessEvent.account.company_name.as_alias("company"),
        AccessEvent.account.role.as_alias("role"),
        AccessEvent.document,
        AccessEvent.document.title.as_alias("document_title"),
    ).where(AccessEvent.id.is_in(ids))
    return {("event", row["id"]): {**row, "kind": "event"} for row in rows}


async def _tallies(ids: list[int]) -> dict[tuple[str, int], dict[str, Any]]:
    if not ids:
        return {}
    rows = await VerifyTally.select(
        VerifyTally.id,
        VerifyTally.document,
        VerifyTally.document.title.as_alias("document_title"),
        VerifyTally.day,
        VerifyTally.checks,
    ).where(VerifyTally.id.is_in(ids))
    return {("tally", row["id"]): {**row, "kind": "tally"} for row in rows}


async def record_documents_listed(viewer: Account, connection_id: int, listed: int) -> None:
    """A third party opened a connection whose documents they may see: the list counts as viewed."""
    await audit.record(
        AuditAction.viewed_documents, viewer, connection=connection_id, detail=f"{listed} documents listed"
    )


async def record_document_viewed(viewer: Account, connection_id: int, document_id: int) -> int:
    """A third party opened one shared document; the event's id is the number its watermark shows."""
    return await audit.record(
        AuditAction.viewed_document, viewer, connection=connection_id, document=document_id
    )
