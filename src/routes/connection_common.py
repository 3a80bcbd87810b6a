"""What the connection route modules share: loading one's own connection, today's date, and the
answers after an action (the row for htmx, a redirect for a plain form, a clear conflict message)."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Request, Response
from litestar.exceptions import NotFoundException
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from src import connections
from src.clock import today_in
from src.htmx import VARY, wants_fragment
from src.mail import poke_worker
from src.routes.common import safe_next, settings_of
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


async def row_response(
    request: Request[Any, Any, Any], connection_id: int, status: int = 200, notice: str | None = None
) -> Template:
    """htmx: the connection's row, plus the counts above the list (out of band)."""
    row = await connections.one_row(request.user, connection_id)
    counts = await connections.counts_for(request.user, today(request))
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
    return Redirect(path=safe_next(return_to, f"/connections/{connection_id}"), status_code=303)  # type: ignore[return-value]


async def conflict(request: Request[Any, Any, Any], connection_id: int) -> Response[Any]:
    """Someone else acted first: htmx gets the row as it is now (409); a form goes back to the connection."""
    if wants_fragment(request):
        return await row_response(request, connection_id, status=409, notice=CONFLICT_TEXT)  # type: ignore[return-value]
    flash(request, CONFLICT_TEXT, category="warning")
    return Redirect(path=f"/connections/{connection_id}", status_code=303)  # type: ignore[return-value]


def parse_ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.isdigit()][:200]
