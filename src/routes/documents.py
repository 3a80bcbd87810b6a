"""A learner's own documents, and their activity log (who did what, when, on their connections)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromQuery
from litestar.response import Template

from src.connections import activity_page
from src.documents import owned_by
from src.guards import requires_learner
from src.htmx import render
from src.routes.connection_common import today


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
        activity = await activity_page(request.user, page)
        return render(
            request,
            "documents/activity.html",
            "partials/documents/_activity.html",
            events=activity.events,
            page=activity.page,
            has_next=activity.has_next,
            me=request.user.id,
        )
