"""Connections, for third parties and learners alike: the list, one connection, accept, decline, cancel."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from src import connections
from src.connections import (
    OPEN_STATES,
    WAITING_LEARNER,
    Conflict,
    Refused,
    is_usable,
    shared_documents,
)
from src.connections import log_event as record
from src.documents import owned_by
from src.forms import parse_date, read_form
from src.guards import requires_learner_or_third_party
from src.htmx import render
from src.routes.connection_common import after_action, conflict, load, parse_ids, today
from src.tables.accounts import Role


class ConnectionController(Controller):
    path = "/connections"
    guards = [requires_learner_or_third_party]

    @get("/", name="connections")
    async def list_connections(
        self,
        request: Request[Any, Any, Any],
        show: FromQuery[str] = "all",
        q: FromQuery[str] = "",
        page: FromQuery[int] = 1,
    ) -> Template:
        """Page: counts, filters, search and one page of connections. htmx: the list alone."""
        day = today(request)
        listing = await connections.list_page(request.user, day, show, q, page)
        counts = await connections.counts_for(request.user, day)
        return render(
            request,
            "connections/list.html",
            "partials/connections/_list.html",
            listing=listing,
            counts=counts,
            today=day,
            role=request.user.role,
            filters=connections.FILTERS,
        )

    @get("/{connection_id:int}", name="connection")
    async def show_connection(
        self, request: Request[Any, Any, Any], connection_id: FromPath[int]
    ) -> Template:
        """Page: one connection, its shared documents (for a third party only while access is open) and the
        actions its state allows."""
        connection = await load(request, connection_id)
        day = today(request)
        account = request.user
        documents = await shared_documents(connection.id, account, day)
        usable = is_usable(connection, day)
        if account.role == Role.third_party.value and usable:
            await record(
                account, "viewed_documents", connection.id, detail=f"{len(documents)} documents listed"
            )
        row = await connections.one_row(account, connection.id)
        context: dict[str, Any] = {
            "c": row,
            "connection": connection,
            "documents": documents,
            "usable": usable,
            "today": day,
            "role": account.role,
            "pending": await connections.pending_extension(connection.id),
            "values": {},
            "errors": {},
        }
        if account.role == Role.learner.value:
            context["own_documents"] = await owned_by(account)
            context["shared_ids"] = {d["id"] for d in documents}  # a learner always sees their own
        return render(request, "connections/detail.html", **context)

    @post("/{connection_id:int}/accept")
    async def accept_connection(
        self, request: Request[Any, Any, Any], connection_id: FromPath[int]
    ) -> Response[Any]:
        """Accept a request. Third party: as offered. Learner: choosing documents and the end date.
        htmx: the row; plain form: back to the connection."""
        connection = await load(request, connection_id)
        account = request.user
        day = today(request)
        form = await read_form(request)
        try:
            if account.role == Role.third_party.value:
                await connections.accept_as_third_party(account, connection, day)
            else:
                if connection.state != WAITING_LEARNER:
                    raise Conflict()  # the state decides first: a form for a request no longer open is moot
                data = await request.form()
                expires_on = parse_date(form, "expires_on", "the date access ends", required=True)
                ids = parse_ids(data.getall("documents", []))
                if not ids:
                    form.error("documents", "Choose at least one document to share")
                if not form.ok or expires_on is None:
                    return await self._accept_form_again(request, connection, form, 422)
                await connections.accept_as_learner(account, connection, ids, expires_on, day)
        except Conflict:
            return await conflict(request, connection_id)
        except Refused as exc:
            form.error("expires_on" if account.role == Role.learner.value else "connection", str(exc))
            return await self._accept_form_again(request, connection, form, 422)
        return await after_action(request, connection_id, "Connection accepted.", form.get("return_to"))

    async def _accept_form_again(
        self, request: Request[Any, Any, Any], connection: Any, form: Any, status: int
    ) -> Response[Any]:
        day = today(request)
        data = await request.form()
        return render(
            request,
            "connections/detail.html",
            status_code=status,  # type: ignore[return-value]
            c=await connections.one_row(request.user, connection.id),
            connection=connection,
            documents=[],
            usable=False,
            today=day,
            role=request.user.role,
            pending=None,
            own_documents=await owned_by(request.user),
            shared_ids=set(parse_ids(data.getall("documents", []))),
            values=form.kept(),
            errors=form.errors,
        )

    @post("/{connection_id:int}/decline")
    async def decline_connection(
        self, request: Request[Any, Any, Any], connection_id: FromPath[int]
    ) -> Response[Any]:
        """Decline a request made to you. htmx: the row; plain form: back to the list."""
        connection = await load(request, connection_id)
        form = await read_form(request)
        try:
            await connections.decline(request.user, connection)
        except Conflict:
            return await conflict(request, connection_id)
        return await after_action(request, connection_id, "Request declined.", form.get("return_to"))

    @get("/{connection_id:int}/cancel", name="confirm_cancel")
    async def confirm_cancel(
        self, request: Request[Any, Any, Any], connection_id: FromPath[int]
    ) -> Response[Any]:
        """Page: are you sure? Cancelling ends access at once and tells the other side. A connection that
        has already ended gets the "this has changed" answer, not a form that can only fail."""
        connection = await load(request, connection_id)
        if connection.state not in OPEN_STATES:
            return await conflict(request, connection_id)
        row = await connections.one_row(request.user, connection.id)
        return render(
            request,
            "connections/cancel.html",
            "partials/connections/_cancel_confirm.html",  # type: ignore[return-value]
            c=row,
            role=request.user.role,
            today=today(request),
        )

    @post("/{connection_id:int}/cancel")
    async def cancel_connection(
        self, request: Request[Any, Any, Any], connection_id: FromPath[int]
    ) -> Response[Any]:
        """Cancel: the connection ends at once; the other side gets an email. htmx: the row."""
        connection = await load(request, connection_id)
        form = await read_form(request)
        try:
            await connections.cancel(request.user, connection)
        except Conflict:
            return await conflict(request, connection_id)
        return await after_action(request, connection_id, "Connection cancelled.", form.get("return_to"))
