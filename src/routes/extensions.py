"""More time: a third party asks, the learner approves or declines; the learner extends on their own
or changes which documents are shared."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from src import connections
from src.connections import ACTIVE, Conflict, Refused, is_usable, shared_documents
from src.documents import owned_by
from src.forms import parse_date, read_form
from src.guards import requires_learner, requires_third_party
from src.htmx import render
from src.routes.connection_common import after_action, conflict, load, parse_ids, today


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
        return render(
            request,
            "connections/extension.html",
            "partials/connections/_extension_form.html",  # type: ignore[return-value]
            c=await connections.one_row(request.user, connection.id),
            values={},
            errors={},
            pending=await connections.pending_extension(connection.id),
        )

    @post("/extension", guards=[requires_third_party])
    async def request_extension(
        self, request: Request[Any, Any, Any], connection_id: FromPath[int]
    ) -> Response[Any]:
        """Send the request (one pending per connection); the learner gets an email."""
        connection = await load(request, connection_id)
        form = await read_form(request)
        wanted = parse_date(form, "wanted_until", "the date you want access until", required=True)
        message = form.optional("message", 500)
        if form.ok and wanted is not None:
            try:
                await connections.request_extension(request.user, connection, wanted, message, today(request))
            except Conflict:
                return await conflict(request, connection_id)
            except Refused as exc:
                form.error("wanted_until", str(exc))
        if not form.ok:
            return render(
                request,
                "connections/extension.html",
                "partials/connections/_extension_form.html",  # type: ignore[return-value]
                status_code=422,
                c=await connections.one_row(request.user, connection.id),
                values=form.kept(),
                errors=form.errors,
                pending=None,
            )
        return await after_action(request, connection_id, "Request for more time sent.")

    @post("/extension/approve", guards=[requires_learner])
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

    @post("/extension/decline", guards=[requires_learner])
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

    @post("/extend", guards=[requires_learner])
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

    @post("/documents", guards=[requires_learner])
    async def change_documents(
        self, request: Request[Any, Any, Any], connection_id: FromPath[int]
    ) -> Response[Any]:
        """Change which documents the connection shares."""
        connection = await load(request, connection_id)
        form = await read_form(request)
        data = await request.form()
        try:
            await connections.change_documents(
                request.user, connection, parse_ids(data.getall("documents", []))
            )
        except Conflict:
            return await conflict(request, connection_id)
        except Refused as exc:
            form.error("documents", str(exc))
            return await _detail_with_errors(request, connection, form, "documents")
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
    new_date = parse_date(form, field, "the new end date", required=True)
    if form.ok and new_date is not None:
        try:
            await action(new_date)
        except Conflict:
            return await conflict(request, connection.id)
        except Refused as exc:
            form.error(field, str(exc))
    if not form.ok:
        return await _detail_with_errors(request, connection, form, section)
    return await after_action(request, connection.id, done)


async def _detail_with_errors(
    request: Request[Any, Any, Any], connection: Any, form: Any, section: str
) -> Response[Any]:
    day = today(request)
    documents = await shared_documents(connection.id, request.user, day)
    return render(
        request,
        "connections/detail.html",
        status_code=422,  # type: ignore[return-value]
        c=await connections.one_row(request.user, connection.id),
        connection=connection,
        documents=documents,
        usable=is_usable(connection, day),
        today=day,
        role=request.user.role,
        pending=await connections.pending_extension(connection.id),
        own_documents=await owned_by(request.user),
        shared_ids={d["id"] for d in documents},
        values=form.kept(),
        errors=form.errors,
        section=section,
    )
