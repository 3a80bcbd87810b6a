"""What the route modules share: the app's settings and tokens, addresses by route name, today's date,
the one answer to an action's `Conflict` or `Refused`, and the connection pages' helpers (loading one's
own connection, the one builder of the connection page's context, and the answers after an action)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from litestar import Request, Response
from litestar.exceptions import NotFoundException
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_409_CONFLICT

from src import accounts, connections
from src.clock import today_in
from src.documents import owned_by
from src.errors import Conflict, Refused
from src.forms import Form
from src.htmx import VARY, redirect, render, wants_fragment
from src.mail import poke_worker
from src.settings import Settings
from src.tables.accounts import Role
from src.tables.connections import Connection
from src.tokens import Tokens

CONFLICT_TEXT = "This connection has changed since you loaded the page. Here is how it stands now."


def settings_of(request: Request[Any, Any, Any]) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def tokens_of(request: Request[Any, Any, Any]) -> Tokens:
    return request.app.state.tokens  # type: ignore[no-any-return]


def url(request: Request[Any, Any, Any], name: str, **path_parameters: Any) -> str:
    """The path of a named route (the same names templates give `url_for`)."""
    return request.app.route_reverse(name, **path_parameters)


def client_ip(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


def safe_next(value: str | None, default: str = "/dashboard") -> str:
    """Only local paths: '/x' yes; '//evil', '/\\evil', 'https://evil' no."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")) or "\\" in value:
        return default
    if any(ord(c) < 32 for c in value):
        return default
    return value


def step_up(request: Request[Any, Any, Any], *, asks_password: bool = False) -> str | None:
    """What the step-up prompt of a form that needs a recent second step asks for now (the
    `step_up` of partials/account/_step_up.html): None, "code" or "password"."""
    return accounts.step_up_needed(request.session, request.user, asks_password=asks_password)


def today(request: Request[Any, Any, Any]) -> date:
    """Today in the portal's time zone (access ends at the end of its last day there)."""
    return today_in(settings_of(request).tz)


async def answer_refusal(
    request: Request[Any, Any, Any],
    refusal: Conflict | Refused,
    *,
    changed: str = "",
    back: str | None = None,
    as_it_stands: Callable[[str], Awaitable[Response[Any]]] | None = None,
) -> Response[Any]:
    """The one answer to an action that lost a race (`Conflict`; `changed` says what changed, in the
    page's words) or was refused as a whole (`Refused`; its message).

    htmx with `as_it_stands`, or anything with nowhere to go `back` to: `as_it_stands(message)`, the
    thing as it stands now showing the message, as 409. Otherwise the message as a warning flash and
    a redirect to `back` (a 303 for a plain form, HX-Redirect for htmx)."""
    message = refusal.message if isinstance(refusal, Refused) else changed
    if as_it_stands is not None and (back is None or wants_fragment(request)):
        response = await as_it_stands(message)
        response.status_code = HTTP_409_CONFLICT
        return response
    if back is None:
        raise TypeError("answer_refusal needs somewhere to go back to, or the page as it stands")
    flash(request, message, category="warning")
    return redirect(request, back)  # type: ignore[return-value]


# --- the connection pages ----------------------------------------------------------------------


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
    request: Request[Any, Any, Any], connection_id: int, notice: str | None = None
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
    return await answer_refusal(
        request,
        Conflict(),
        changed=CONFLICT_TEXT,
        back=url(request, "connection", connection_id=connection_id),
        as_it_stands=lambda message: row_response(request, connection_id, notice=message),
    )
