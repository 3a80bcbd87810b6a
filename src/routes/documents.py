"""A learner's own documents, and their activity log (who did what, when, on their connections)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from src.connections import activity_page
from src.documents import owned_by, page_owned_by
from src.guards import requires_learner
from src.htmx import render
from src.routes.common import today
from src.routes.viewer_common import Viewing, report_form, send_report, show_page


class DocumentController(Controller):
    guards = [requires_learner]

    @get("/documents", name="documents")
    async def list_documents(self, request: Request[Any, Any, Any], page: FromQuery[int] = 1) -> Template:
        """Page: the learner's documents, newest award first, a page at a time, each with its status in words."""
        rows, page, has_next = await page_owned_by(request.user, page)
        return render(
            request, "documents/list.html", documents=rows, page=page, has_next=has_next, today=today(request)
        )

    async def _own(self, request: Request[Any, Any, Any], document_id: int) -> Viewing:
        """The learner's own document, or 404 (another person's document does not exist for them)."""
        found = await owned_by(request.user, [document_id])
        if not found:
            raise NotFoundException()
        document = found[0]
        app = request.app
        newer = None
        if document.superseded_by and await owned_by(request.user, [document.superseded_by]):
            newer = app.route_reverse("document", document_id=document.superseded_by)
        return Viewing(
            document=document,
            connection=None,
            page_url=app.route_reverse("document", document_id=document.id),
            report_url=app.route_reverse("document_report", document_id=document.id),
            newer_url=newer,
        )

    @get("/documents/{document_id:int}", name="document")
    async def show_document(self, request: Request[Any, Any, Any], document_id: FromPath[int]) -> Template:
        """Page: one of the learner's documents, view-only, with its status in words and the report button."""
        return await show_page(request, await self._own(request, document_id))

    @get("/documents/{document_id:int}/report", name="document_report")
    async def report_form(self, request: Request[Any, Any, Any], document_id: FromPath[int]) -> Template:
        """Page: the report form. htmx: the form alone, in place of the yellow button."""
        return await report_form(request, await self._own(request, document_id))

    @post("/documents/{document_id:int}/report", name="send_document_report")
    async def send_report(self, request: Request[Any, Any, Any], document_id: FromPath[int]) -> Response[Any]:
        """Send a report. htmx: the confirmation; plain form: back to the document."""
        return await send_report(request, await self._own(request, document_id))

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
