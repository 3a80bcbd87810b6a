"""A document a learner shared with a third party, opened from the connection: only while the
connection gives access and only if the document is shared in it; anything else is a 404."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from src import connections
from src.guards import requires_third_party
from src.routes.common import today
from src.routes.viewer_common import Viewing, report_form, send_report, show_page


class SharedDocumentController(Controller):
    path = "/connections/{connection_id:int}/documents/{document_id:int}"
    guards = [requires_third_party]

    async def _shared(self, request: Request[Any, Any, Any], connection_id: int, document_id: int) -> Viewing:
        found = await connections.shared_document(request.user, connection_id, document_id, today(request))
        if found is None:
            raise NotFoundException()
        connection, document = found
        ids = {"connection_id": connection.id, "document_id": document.id}
        return Viewing(
            document=document,
            connection=connection,
            page_url=request.app.route_reverse("shared_document", **ids),
            report_url=request.app.route_reverse("shared_document_report", **ids),
        )

    @get("/", name="shared_document")
    async def show_document(
        self, request: Request[Any, Any, Any], connection_id: FromPath[int], document_id: FromPath[int]
    ) -> Template:
        """Page: the shared document, view-only, watermarked for this viewer; the view is logged for the
        learner (their Activity and the document's "Seen by"), and the log entry's number is the
        watermark's reference."""
        viewing = await self._shared(request, connection_id, document_id)
        event = await connections.record_document_viewed(request.user, connection_id, document_id)
        # Said plainly on the page: the learner sees each of these views, with name and organisation.
        seen = await connections.views_by(request.user, document_id)
        return await show_page(request, viewing, event_ref=event, my_views=seen)

    @get("/report", name="shared_document_report")
    async def report_form(
        self, request: Request[Any, Any, Any], connection_id: FromPath[int], document_id: FromPath[int]
    ) -> Template:
        """Page: the report form. htmx: the form alone, in place of the yellow button."""
        return await report_form(request, await self._shared(request, connection_id, document_id))

    @post("/report", name="send_shared_document_report")
    async def send_report(
        self, request: Request[Any, Any, Any], connection_id: FromPath[int], document_id: FromPath[int]
    ) -> Response[Any]:
        """Send a report. htmx: the confirmation; plain form: back to the document."""
        return await send_report(request, await self._shared(request, connection_id, document_id))
