"""Staff reports inbox: open reports first, oldest first; read one beside its document, answer it
(the answer is emailed to the reporter) and close it. Answer and close are compare-and-sets: when
two members of staff act at once, one wins and the other is told the report has changed."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.plugins.flash import flash
from litestar.response import Template

from src import reports
from src.documents import content_of, standing
from src.errors import Conflict
from src.forms import read_form
from src.guards import requires_staff
from src.htmx import redirect, render
from src.mail import poke_worker
from src.routes.common import answer_refusal, today
from src.tables.documents import Document

CHANGED = "This report has changed since you opened it (someone else answered or closed it). Here it is now."


class StaffReportController(Controller):
    path = "/staff/reports"
    guards = [requires_staff]

    @get("/", name="staff_reports")
    async def list_reports(
        self, request: Request[Any, Any, Any], show: FromQuery[str] = "all", page: FromQuery[int] = 1
    ) -> Template:
        """Page: the inbox, filtered by state. htmx: the list alone."""
        return render(
            request,
            "staff/reports.html",
            "partials/staff/_reports.html",
            inbox=await reports.inbox(show, page),
            filters=reports.INBOX_FILTERS,
            states=reports.STATES,
            categories=reports.CATEGORIES,
        )

    async def _page(
        self, request: Request[Any, Any, Any], report_id: int, status: int = 200, **extra: Any
    ) -> Template:
        report = await reports.for_staff(report_id)
        if report is None:
            raise NotFoundException()
        document = await Document.objects().where(Document.id == report["document"]).first()
        if document is None:
            raise NotFoundException()
        context = {
            "report": report,
            "document": document,
            "content": content_of(document),
            "standing": standing(document, today(request)),
            "states": reports.STATES,
            "categories": reports.CATEGORIES,
            "values": {},
            "errors": {},
            **extra,
        }
        return render(request, "staff/report.html", status_code=status, **context)

    async def _changed(
        self, request: Request[Any, Any, Any], report_id: int, lost: Conflict
    ) -> Response[Any]:
        """Someone else answered or closed it first: the report as it is now (409), form or htmx alike."""
        return await answer_refusal(
            request,
            lost,
            changed=CHANGED,
            as_it_stands=lambda message: self._page(request, report_id, notice=message),
        )

    @get("/{report_id:int}", name="staff_report")
    async def show_report(self, request: Request[Any, Any, Any], report_id: FromPath[int]) -> Template:
        """Page: the report beside the document, with the answer form (open) or close button (answered)."""
        return await self._page(request, report_id)

    @post("/{report_id:int}/answer", name="staff_report_answer", opt={"reload": "staff_report"})
    async def answer_report(self, request: Request[Any, Any, Any], report_id: FromPath[int]) -> Response[Any]:
        """Answer an open report; the reporter gets the answer by email. Errors: 422 with the text kept.
        Someone answered first: 409 with the report as it is now."""
        form = await read_form(request)
        text = form.get("answer")
        for name, message in reports.check_answer(text).items():
            form.error(name, message)
        if not form.ok:
            return await self._page(  # type: ignore[return-value]
                request, report_id, 422, values=form.kept(), errors=form.errors
            )
        if await reports.for_staff(report_id) is None:
            raise NotFoundException()
        try:
            await reports.answer(request.user, report_id, text)
        except Conflict as lost:
            return await self._changed(request, report_id, lost)
        poke_worker(request.app)
        flash(request, "Your answer was sent to the reporter.", category="success")
        return redirect(request, request.app.route_reverse("staff_report", report_id=report_id))  # type: ignore[return-value]

    @post("/{report_id:int}/close", name="staff_report_close", opt={"reload": "staff_report"})
    async def close_report(self, request: Request[Any, Any, Any], report_id: FromPath[int]) -> Response[Any]:
        """Close an answered report. Not answered (or already closed): 409 with the report as it is now."""
        if await reports.for_staff(report_id) is None:
            raise NotFoundException()
        try:
            await reports.close(report_id)
        except Conflict as lost:
            return await self._changed(request, report_id, lost)
        flash(request, "Report closed.", category="success")
        return redirect(request, request.app.route_reverse("staff_reports"))  # type: ignore[return-value]
