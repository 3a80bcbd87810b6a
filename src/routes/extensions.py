"""More time: a third party asks, the learner approves or declines; the learner extends on their own
or changes which documents are shared."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Template

from src import connections
from src.connections import ACTIVE, check_extension_request, check_new_date, place_refusal
from src.errors import Conflict, Refused
from src.forms import Form, read_form
from src.guards import requires_learner, requires_third_party
from src.htmx import render
from src.routes.common import after_action, conflict, connection_page, load, today


class ExtensionController(Controller):
    path = "/connections/{connection_id:int}"

    @get("/extension", name="request_extension", guards=[requires_third_party])
    async def show_request_extension(
        self, request: Request[Any, Any, Any], connection_id: FromPath[int]
    ) -> Response[Any]:
        """Page: ask the learner for a later end date, with an optional message. htmx: the form alone.
        Only an active connection (access open or ended) can get more time; otherwise "this has changed"."""
        connection = await load(request, connection_id)
        if connection.state != ACTIVE:
            return await conflict(request, connection_id)
        return await _extension_page(request, connection)

    @post("/extension", name="send_extension_request", guards=[requires_third_party])
    async def request_extension(
        self, request: Request[Any, Any, Any], connection_id: FromPath[int]
    ) -> Response[Any]:
        """Send the request (one pending per connection); the learner gets an email. Errors: 422."""
        connection = await load(request, connection_id)
        form = await read_form(request)
        asked = check_extension_request(form)
        if asked is not None:
            try:
                await connections.request_extension(
                    request.user, connection, asked.wanted_until, asked.message, today(request)
                )
            except Conflict:
                return await conflict(request, connection_id)
            except Refused as exc:
                place_refusal(form, exc, default="wanted_until")
        if not form.ok:
            return await _extension_page(request, connection, form)
        return await after_action(request, connection_id, "Request for more time sent.")

    @post(
        "/extension/approve",
        name="approve_extension",
        guards=[requires_learner],
        opt={"reload": "connection"},
    )
    async def approve_extension(
        self, request: Request[Any, Any, Any], connection_id: FromPath[int]
    ) -> Response[Any]:
        """Approve the pending request, with the wanted date or another; the third party gets an email."""
        connection = await load(request, connection_id)
        pending = await connections.pending_extension(connection.id)
        if pending is None:
            return await conflict(request, connection_id)
        return await _with_new_date(
            request,
            connection,
            "new_expiry",
            "approve",
            "Extension approved.",
            lambda new_date: connections.approve_extension(
                request.user, connection, pending, new_date, today(request)
            ),
        )

    @post(
        "/extension/decline",
        name="decline_extension",
        guards=[requires_learner],
        opt={"reload": "connection"},
    )
    async def decline_extension(
        self, request: Request[Any, Any, Any], connection_id: FromPath[int]
    ) -> Response[Any]:
        """Decline the pending request; the third party gets an email and keeps the current date."""
        connection = await load(request, connection_id)
        pending = await connections.pending_extension(connection.id)
        if pending is None:
            return await conflict(request, connection_id)
        try:
            await connections.decline_extension(request.user, connection, pending)
        except Conflict:
            return await conflict(request, connection_id)
        return await after_action(request, connection_id, "Extension declined.")

    @post("/extend", name="extend_connection", guards=[requires_learner], opt={"reload": "connection"})
    async def extend_connection(
        self, request: Request[Any, Any, Any], connection_id: FromPath[int]
    ) -> Response[Any]:
        """Move the end date later; the third party gets an email with the new date."""
        connection = await load(request, connection_id)
        return await _with_new_date(
            request,
            connection,
            "extend_to",
            "extend",
            "Access extended.",
            lambda new_date: connections.extend(request.user, connection, new_date, today(request)),
        )

    @post("/documents", name="change_documents", guards=[requires_learner], opt={"reload": "connection"})
    async def change_documents(
        self, request: Request[Any, Any, Any], connection_id: FromPath[int]
    ) -> Response[Any]:
        """Change which documents the connection shares."""
        connection = await load(request, connection_id)
        form = await read_form(request)
        try:
            await connections.change_documents(request.user, connection, form.ids("documents"))
        except Conflict:
            return await conflict(request, connection_id)
        except Refused as exc:
            place_refusal(form, exc, default="documents")
            return await connection_page(request, connection, form=form, section="documents")
        return await after_action(request, connection_id, "Shared documents changed.")


async def _with_new_date(
    request: Request[Any, Any, Any],
    connection: Any,
    field: str,
    section: str,
    done: str,
    action: Callable[[date], Awaitable[None]],
) -> Response[Any]:
    """Read a three-field date, run the action with it, and answer: done, conflict, or the page with errors."""
    form = await read_form(request)
    new_date = check_new_date(form, field)
    if new_date is not None:
        try:
            await action(new_date)
        except Conflict:
            return await conflict(request, connection.id)
        except Refused as exc:
            # The actions name the end date "expires_on"; on this form it is `field`.
            place_refusal(form, exc, default=field, renamed={"expires_on": field})
    if not form.ok:
        return await connection_page(request, connection, form=form, section=section)  # type: ignore[return-value]
    return await after_action(request, connection.id, done)


async def _extension_page(
    request: Request[Any, Any, Any], connection: Any, form: Form | None = None
) -> Template:
    """The "ask for more time" page; with `form`, again after it was refused (422)."""
    return render(
        request,
        "connections/extension.html",
        "partials/connections/_extension_form.html",
        status_code=422 if form else 200,
        c=await connections.one_row(request.user, connection.id, today(request)),
        values=form.kept() if form else {},
        errors=form.errors if form else {},
        # After a refusal the form is shown again, even if the refusal was "already asked".
        pending=None if form else await connections.pending_extension(connection.id),
    )
