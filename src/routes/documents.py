"""A learner's own documents, and their activity log (who did what, when, on their connections)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar_htmx import ClientRedirect

from src import accounts, connections
from src.connections import activity_page
from src.documents import linkedin_url, owned_by, page_owned_by, standing, titles_owned_by
from src.forms import read_form
from src.guards import requires_learner
from src.htmx import redirect, render, wants_fragment
from src.routes.common import settings_of, today, url
from src.routes.viewer_common import Viewing, report_form, send_report, show_page


class DocumentController(Controller):
    guards = [requires_learner]

    @get("/documents", name="documents")
    async def list_documents(self, request: Request[Any, Any, Any], page: FromQuery[int] = 1) -> Template:
        """Page: the learner's documents, newest award first, a page at a time, each with its status in words."""
        rows, page, has_next = await page_owned_by(request.user, page)
        return render(
            request,
            "documents/list.html",
            documents=rows,
            page=page,
            has_next=has_next,
            today=today(request),
            weekly=request.user.weekly_views_email,
            changed=False,
        )

    @post("/documents/weekly-email", name="weekly_views_email", status_code=200, opt={"reload": "documents"})
    async def choose_weekly_email(
        self, request: Request[Any, Any, Any]
    ) -> Template | Redirect | ClientRedirect:
        """Switch the weekly email about views on or off, then the documents page (htmx: the switch alone)."""
        form = await read_form(request)
        wanted = form.get("weekly") == "yes"
        await accounts.set_weekly_views_email(request.user, wanted)
        if wants_fragment(request):
            return render(request, "partials/documents/_weekly_email.html", weekly=wanted, changed=True)
        flash(
            request,
            "You will get a weekly email when your documents were viewed."
            if wanted
            else "You will no longer get the weekly email about views.",
            category="success",
        )
        return redirect(request, url(request, "documents") + "#weekly-email")

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
        """Page: one of the learner's documents, view-only, with its status in words, who has seen it and
        how often it was checked on its verify page, "Add to LinkedIn" while it is current, and the
        report button."""
        viewing = await self._own(request, document_id)
        document, settings = viewing.document, settings_of(request)
        linkedin = None
        if standing(document, today(request)).is_current:
            linkedin = linkedin_url(
                document,
                verify_base=settings.verify_base,
                org_name=settings.org_name,
                organization_id=settings.linkedin_organization_id,
            )
        return await show_page(
            request,
            viewing,
            views=await connections.views_page(request.user, document.id),
            checks=await connections.verify_checks(document.id, settings.tz),
            linkedin=linkedin,
        )

    @get("/documents/{document_id:int}/views", name="document_views")
    async def list_views(
        self, request: Request[Any, Any, Any], document_id: FromPath[int], page: FromQuery[int] = 1
    ) -> Template:
        """Page: everyone who has seen one of the learner's documents, newest first, a page at a time.
        htmx: the list alone."""
        document = (await self._own(request, document_id)).document
        return render(
            request,
            "documents/views.html",
            "partials/documents/_seen_by.html",
            document=document,
            views=await connections.views_page(request.user, document.id, page),
        )

    @get("/documents/{document_id:int}/report", name="document_report")
    async def report_form(self, request: Request[Any, Any, Any], document_id: FromPath[int]) -> Template:
        """Page: the report form. htmx: the form alone, in place of the yellow button."""
        return await report_form(request, await self._own(request, document_id))

    @post("/documents/{document_id:int}/report", name="send_document_report")
    async def send_report(self, request: Request[Any, Any, Any], document_id: FromPath[int]) -> Response[Any]:
        """Send a report. htmx: the confirmation; plain form: back to the document."""
        return await send_report(request, await self._own(request, document_id))

    @get("/activity", name="activity")
    async def list_activity(
        self,
        request: Request[Any, Any, Any],
        page: FromQuery[int] = 1,
        document: FromQuery[int | None] = None,
    ) -> Template:
        """Page: who did what and when on the learner's connections and verify pages, newest first;
        `?document=` keeps what is about one of their documents (another person's: 404).
        htmx: the list alone."""
        chosen = None
        if document is not None:
            found = await owned_by(request.user, [document])
            if not found:
                raise NotFoundException()
            chosen = found[0]
        activity = await activity_page(request.user, page, chosen.id if chosen else None)
        return render(
            request,
            "documents/activity.html",
            "partials/documents/_activity.html",
            events=activity.events,
            page=activity.page,
            has_next=activity.has_next,
            me=request.user.id,
            chosen=chosen,
            titles=await titles_owned_by(request.user),
        )
