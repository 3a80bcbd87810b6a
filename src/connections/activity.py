"""The learner's activity log: who did what and when on their connections, and each check of
their documents on the public verify page; and what a third party is recorded as having viewed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from src import audit
from src.audit import AuditAction
from src.db import Paging
from src.tables.accounts import Account
from src.tables.connections import AccessEvent

ACTIVITY_PAGE = 50


@dataclass
class ActivityPage:
    events: list[dict[str, Any]]
    page: int
    has_next: bool


async def activity_page(learner: Account, page: int = 1) -> ActivityPage:
    """Who did what and when on the learner's connections and documents' verify pages, newest first."""
    paging = Paging.of(page, ACTIVITY_PAGE)
    query = (
        AccessEvent.select(
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
        )
        .where(
            (AccessEvent.connection.learner == learner.id)
            # Checks on the public verify page belong to no connection: the document says whose.
            | (
                (AccessEvent.action == AuditAction.checked_on_the_verify_page.value)
                & (AccessEvent.document.owner == learner.id)
            )
        )
        .order_by(AccessEvent.id, ascending=False)
    )
    events, has_next = paging.cut(await paging.apply(query))
    return ActivityPage(events=events, page=paging.page, has_next=has_next)


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
