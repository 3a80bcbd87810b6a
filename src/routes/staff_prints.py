"""Staff: printed duplicates of documents (PDF, on demand) and the print queue of learners' orders."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.plugins.flash import flash
from litestar.response import Template

from src import printing
from src.errors import Conflict, Refused
from src.forms import read_form
from src.guards import requires_staff
from src.htmx import redirect, render
from src.mail import poke_worker
from src.routes.common import answer_refusal, settings_of, url

CONFLICT_TEXT = "This order changed since you loaded the page (it was cancelled or already marked). Here is how it stands now."


def _version(value: str) -> int:
    if not value.isascii() or not value.isdigit() or len(value) > 9:
        raise NotFoundException()
    return int(value)


async def _print_refused(document_id: int, message: str) -> Response[Any]:
    """Why this document has no duplicate (revoked or superseded), with a way back to it."""
    return Template(
        template_name="staff/print_refused.html",
        context={"message": message, "document_id": document_id},
        headers={"Cache-Control": "no-store"},
    )


class StaffPrintController(Controller):
    path = "/staff"
    guards = [requires_staff]

    async def _duplicate(
        self, request: Request[Any, Any, Any], document_id: int, detail: str
    ) -> Response[Any]:
        settings = settings_of(request)
        try:
            duplicate = await printing.print_duplicate(
                request.user,
                document_id,
                verify_base=settings.verify_base,
                org_name=settings.org_name,
                tz=settings.tz,
                detail=detail,
            )
        except Refused as refused:
            return await answer_refusal(
                request, refused, as_it_stands=lambda message: _print_refused(document_id, message)
            )
        if duplicate is None:
            raise NotFoundException()
        return Response(
            content=duplicate.pdf,
            media_type="application/pdf",
            headers={
                "Cache-Control": "no-store",
                "Content-Disposition": f'attachment; filename="{duplicate.filename}"',
                "X-Content-Type-Options": "nosniff",
            },
        )

    @get("/documents/{document_id:int}/duplicate", name="staff_print_duplicate")
    async def print_duplicate(
        self, request: Request[Any, Any, Any], document_id: FromPath[int]
    ) -> Response[Any]:
        """A PDF duplicate of a valid document (made now, never stored); 409 page for revoked or superseded."""
        return await self._duplicate(request, document_id, "")

    @get("/prints", name="staff_prints")
    async def list_prints(
        self,
        request: Request[Any, Any, Any],
        shown: Annotated[str, QueryParameter(name="state")] = "requested",  # "state" is Litestar's own name
        page: FromQuery[int] = 1,
    ) -> Template:
        """Page: the print queue, oldest first, filtered by state. htmx: the queue alone."""
        found = await printing.print_queue(shown[:20], page)
        return render(
            request,
            "staff/prints.html",
            "partials/staff/_print_queue.html",
            queue=found,
            states=printing.STATES,
        )

    @get("/prints/{order_id:int}/duplicate", name="staff_print_order_duplicate")
    async def print_order_duplicate(
        self, request: Request[Any, Any, Any], order_id: FromPath[int]
    ) -> Response[Any]:
        """The PDF duplicate of an order's document (logged with the order's number)."""
        order = await printing.order_for_staff(order_id)
        if order is None:
            raise NotFoundException()
        return await self._duplicate(request, order["document"], f"print order {order_id}")

    async def _mark(
        self, request: Request[Any, Any, Any], order_id: int, change: Any, done: str
    ) -> Response[Any]:
        form = await read_form(request)
        version = _version(form.get("version"))
        back = url(request, "staff_prints") + (
            f"?state={form.get('state')}" if form.get("state") in printing.STATES else ""
        )
        try:
            await change(order_id, version)
        except LookupError:
            raise NotFoundException() from None
        except (Conflict, Refused) as refusal:
            return await answer_refusal(request, refusal, changed=CONFLICT_TEXT, back=back)
        poke_worker(request.app)
        flash(request, f"Order {order_id} {done}; the learner has been emailed.", category="success")
        return redirect(request, back)  # type: ignore[return-value]

    @post("/prints/{order_id:int}/printed", name="staff_mark_printed", opt={"reload": "staff_prints"})
    async def mark_printed(self, request: Request[Any, Any, Any], order_id: FromPath[int]) -> Response[Any]:
        """Mark an order printed, then the queue (a race lost: the queue with a notice)."""
        return await self._mark(request, order_id, printing.mark_printed, "is marked printed")

    @post("/prints/{order_id:int}/dispatched", name="staff_mark_dispatched", opt={"reload": "staff_prints"})
    async def mark_dispatched(
        self, request: Request[Any, Any, Any], order_id: FromPath[int]
    ) -> Response[Any]:
        """Mark an order dispatched, then the queue."""
        return await self._mark(request, order_id, printing.mark_dispatched, "is marked dispatched")
