"""A learner's own documents, and their activity log (who did what, when, on their connections)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromQuery
from litestar.response import Template

from src.documents import CHECKED_ACTION, owned_by
from src.guards import requires_learner
from src.htmx import render
from src.routes.connection_common import today
from src.tables.connections import AccessEvent

ACTIVITY_PAGE = 50


class DocumentController(Controller):
    guards = [requires_learner]

    @get("/documents", name="documents")
    async def list_documents(self, request: Request[Any, Any, Any]) -> Template:
        """Page: the learner's documents, each with its status in words."""
        return render(
            request, "documents/list.html", documents=await owned_by(request.user), today=today(request)
        )

    @get("/activity", name="activity")
    async def list_activity(self, request: Request[Any, Any, Any], page: FromQuery[int] = 1) -> Template:
        """Page: who did what and when on the learner's connections and verify pages, newest first.
        htmx: the list alone."""
        page = max(1, min(page, 10_000))
        events = (
            await AccessEvent.select(
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
                AccessEvent.document.title.as_alias("document_title"),
            )
            .where(
                (AccessEvent.connection.learner == request.user.id)
                # Checks on the public verify page belong to no connection: the document says whose.
                | ((AccessEvent.action == CHECKED_ACTION) & (AccessEvent.document.owner == request.user.id))
            )
            .order_by(AccessEvent.id, ascending=False)
            .limit(ACTIVITY_PAGE + 1)
            .offset((page - 1) * ACTIVITY_PAGE)
        )
        return render(
            request,
            "documents/activity.html",
            "partials/documents/_activity.html",
            events=events[:ACTIVITY_PAGE],
            page=page,
            has_next=len(events) > ACTIVITY_PAGE,
            me=request.user.id,
        )
