"""What the two document viewers share (the learner's own document and a third party's shared one):
the view-only headers, the page, the report form and sending a report.

Every answer here, page or fragment, is about one document the caller has already loaded through
the person's own access (a learner's ownership, a third party's usable connection), so anything
else was a 404 before we got here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request, Response
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from src import reports
from src.clock import utcnow
from src.documents import content_of, printed, standing
from src.errors import Refused
from src.forms import read_form
from src.htmx import VARY, wants_fragment
from src.mail import poke_worker
from src.routes.common import settings_of, today
from src.tables.connections import Connection
from src.tables.documents import Document

# View-only, honestly: never kept by a browser or proxy, never indexed, never framed by another site.
VIEW_HEADERS = {
    **VARY,
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Frame-Options": "DENY",
}


@dataclass
class Viewing:
    """One document as one person may see it, and where its pages are."""

    document: Document
    connection: Connection | None  # the third party's connection; None for the learner's own document
    page_url: str
    report_url: str
    newer_url: str | None = None  # a learner's superseded document: the one that replaced it


def _template(name: str, context: dict[str, Any], status: int = 200) -> Template:
    return Template(template_name=name, context=context, status_code=status, headers=VIEW_HEADERS)


async def _context(request: Request[Any, Any, Any], viewing: Viewing) -> dict[str, Any]:
    document, settings = viewing.document, settings_of(request)
    day = today(request)
    offered = reports.categories_for(third_party=viewing.connection is not None)
    return {
        "document": document,
        "content": content_of(document),
        "standing": standing(document, day),
        "connection": viewing.connection,
        "viewing": viewing,
        "today": day,
        "base_url": settings.base_url,
        "verify_code": printed(document.verify_code),
        "fragment": wants_fragment(request),
        "my_reports": await reports.by_reporter(request.user, document.id),
        "states": reports.STATES,
        # The form offers the reporter's own categories; reports already sent stay readable whatever
        # category they carry (sent before third parties had their own list).
        "categories": offered,
        "category_words": {**reports.CATEGORIES, **offered},
        "values": {},
        "errors": {},
    }


async def show_page(
    request: Request[Any, Any, Any], viewing: Viewing, event_ref: int | None = None, **extra: Any
) -> Template:
    """The document's page; `extra` is what only one of the two viewers shows (the learner's: who has
    seen it; the third party's: how many of their views the learner sees)."""
    context = {**await _context(request, viewing), **extra}
    if event_ref is not None:
        account = request.user
        context["watermark"] = {
            "name": f"{account.first_name} {account.last_name}".strip(),
            "organisation": account.company_name,
            "at": utcnow().strftime("%Y-%m-%d %H:%M UTC"),
            "ref": f"V{event_ref}",
        }
    return _template("documents/view.html", context)


async def report_form(request: Request[Any, Any, Any], viewing: Viewing) -> Template:
    """Page: the report form on its own (no JavaScript). htmx: the form in place of the button."""
    context = await _context(request, viewing)
    name = "partials/reports/_report_form.html" if wants_fragment(request) else "documents/report.html"
    return _template(name, context)


async def send_report(request: Request[Any, Any, Any], viewing: Viewing) -> Response[Any]:
    """Send a report. htmx: the confirmation in place of the form (422/429 with the form again).
    Plain form: back to the document with the confirmation as a notice."""
    form = await read_form(request)
    # NUL characters are never typed (and PostgreSQL text cannot hold them): not even shown back.
    form.values["message"] = form.get("message").replace("\x00", "")
    category, message = form.get("category"), form.get("message")
    third_party = viewing.connection is not None
    for name, text in reports.check(category, message, third_party=third_party).items():
        form.error(name, text)
    status = 422
    if form.ok:
        try:
            await reports.submit(
                request.user,
                viewing.document,
                viewing.connection.id if viewing.connection else None,
                category,
                message,
            )
        except Refused as exc:  # a limit reached (on the message), or a category not offered
            form.error(exc.field or "message", exc.message)
            status = 429 if not exc.field else 422
    if not form.ok:
        context = {**await _context(request, viewing), "values": form.kept(), "errors": form.errors}
        name = "partials/reports/_report_form.html" if wants_fragment(request) else "documents/report.html"
        return _template(name, context, status)  # type: ignore[return-value]
    poke_worker(request.app)
    if wants_fragment(request):
        return _template("partials/reports/_report_sent.html", await _context(request, viewing))  # type: ignore[return-value]
    flash(request, "Your report was sent. We have emailed you a copy and will answer by email.", "success")
    return Redirect(path=viewing.page_url, status_code=303)  # type: ignore[return-value]
