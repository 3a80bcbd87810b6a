"""What the connection route modules share: loading one's own connection, today's date, the one
builder of the connection page's context (its GET and every form on it that answers with errors), and
the answers after an action (the row for htmx, a redirect for a plain form, a clear conflict message)."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Request, Response
from litestar.exceptions import NotFoundException
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from src import connections
from src.clock import today_in
from src.documents import owned_by
from src.forms import Form
from src.htmx import VARY, render, wants_fragment
from src.mail import poke_worker
from src.routes.common import safe_next, settings_of, url
from src.tables.accounts import Role
from src.tables.connections import Connection

CONFLICT_TEXT = "This connection has changed since you loaded the page. Here is how it stands now."


def today(request: Request[Any, Any, Any]) -> date:
    return today_in(settings_of(request).tz)


async def load(request: Request[Any, Any, Any], connection_id: int) -> Connection:
    """The connection if the logged-in person is one of its sides; anyone else gets 404."""
    connection = await connections.connection_for(request.user, connection_id)
    if connection is None:
        raise NotFoundException()
    return connection


async def connection_context(
    request: Request[Any, Any, Any],
    connection: Connection,
    *,
    form: Form | None = None,
    section: str | None = None,
    chosen: set[int] | None = None,
) -> dict[str, Any]:
    """What the connection page shows: one connection, its shared documents (for a third party only
    while access is open) and the forms its state allows. With `form`: that form's errors and what was
    typed (`section` names which of the learner's date forms it was; `chosen` the documents ticked on
    the accept form)."""
    account = request.user
    day = today(request)
    documents = await connections.shared_documents(connection.id, account, day)
    context: dict[str, Any] = {
        "c": await connections.one_row(account, connection.id, day),
        "connection": connection,
        "documents": documents,
        "usable": connections.is_usable(connection, day),
        "today": day,
        "role": account.role,
        "pending": await connections.pending_extension(connection.id),
        "values": form.kept() if form else {},
        "errors": form.errors if form else {},
        "section": section,
    }
    if account.role == Role.learner.value:
        context["own_documents"] = await owned_by(account)
        # A learner always sees their own shared documents; on a refused accept, those they ticked.
        context["shared_ids"] = chosen if chosen is not None else {d["id"] for d in documents}
    return context


async def connection_page(
    request: Request[Any, Any, Any],
    connection: Connection,
    *,
    form: Form | None = None,
    section: str | None = None,
    chosen: set[int] | None = None,
) -> Template:
    """The connection page again after a form on it was refused: 422, errors beside their fields."""
    context = await connection_context(request, connection, form=form, section=section, chosen=chosen)
    return render(request, "connections/detail.html", status_code=422, **context)


async def row_response(
    request: Request[Any, Any, Any], connection_id: int, status: int = 200, notice: str | None = None
) -> Template:
    """htmx: the connection's row, plus the counts above the list (out of band)."""
    row = await connections.one_row(request.user, connection_id, today(request))
    counts = await connections.counts_for(request.user, today(request), ending_soon=False)
    return Template(
        template_name="partials/connections/_row_with_counts.html",
        context={
            "c": row,
            "today": today(request),
            "role": request.user.role,
            "counts": counts,
            "notice": notice,
        },
        status_code=status,
        headers=VARY,
    )


async def after_action(
    request: Request[Any, Any, Any], connection_id: int, message: str, return_to: str | None = None
) -> Response[Any]:
    poke_worker(request.app)
    if wants_fragment(request):
        return await row_response(request, connection_id, notice=message)  # type: ignore[return-value]
    flash(request, message, category="success")
    back = url(request, "connection", connection_id=connection_id)
    return Redirect(path=safe_next(return_to, back), status_code=303)  # type: ignore[return-value]


async def conflict(request: Request[Any, Any, Any], connection_id: int) -> Response[Any]:
    """Someone else acted first: htmx gets the row as it is now (409); a form goes back to the connection."""
    if wants_fragment(request):
        return await row_response(request, connection_id, status=409, notice=CONFLICT_TEXT)  # type: ignore[return-value]
    flash(request, CONFLICT_TEXT, category="warning")
    return Redirect(path=url(request, "connection", connection_id=connection_id), status_code=303)  # type: ignore[return-value]
