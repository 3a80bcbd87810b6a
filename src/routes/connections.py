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
    check_accept,
    place_refusal,
)
from src.errors import Conflict, Refused
from src.forms import read_form
from src.guards import requires_learner_or_third_party
from src.htmx import render
from src.routes.common import (
    after_action,
    conflict,
    connection_context,
    connection_page,
    load,
    today,
)
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
        after: FromQuery[str] = "",
        before: FromQuery[str] = "",
    ) -> Template:
        """Page: counts, filters, search and one page of connections, by keyset (`after`/`before` a
        connection id; anything else there gives the first page). htmx: the list alone."""
        day = today(request)
        listing = await connections.list_page(request.user, day, show, q, after=after, before=before)
        counts = await connections.counts_for(request.user, day, ending_soon=False)
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
        account = request.user
        context = await connection_context(request, connection)
        if account.role == Role.third_party.value and context["usable"]:
            documents = context["documents"]
            await connections.record_documents_listed(account, connection.id, len(documents))
        return render(request, "connections/detail.html", **context)

    @post("/{connection_id:int}/accept", name="accept_connection", opt={"reload": "connection"})
    async def accept_connection(
        self, request: Request[Any, Any, Any], connection_id: FromPath[int]
    ) -> Response[Any]:
        """Accept a request. Third party: as offered. Learner: choosing documents and the end date.
        htmx: the row; plain form: back to the connection. Errors: the connection page, 422."""
        connection = await load(request, connection_id)
        account = request.user
        day = today(request)
        form = await read_form(request)
        chosen = set(form.ids("documents"))
        try:
            if account.role == Role.third_party.value:
                await connections.accept_as_third_party(account, connection, day)
            else:
                if connection.state != WAITING_LEARNER:
                    raise Conflict()  # the state decides first: a form for a request no longer open is moot
                accepted = check_accept(form)
                if accepted is None:
                    return await connection_page(request, connection, form=form, chosen=chosen)  # type: ignore[return-value]
                await connections.accept_as_learner(
                    account, connection, accepted.document_ids, accepted.expires_on, day
                )
        except Conflict:
            return await conflict(request, connection_id)
        except Refused as exc:
            place_refusal(form, exc, default="connection")
            return await connection_page(request, connection, form=form, chosen=chosen)  # type: ignore[return-value]
        return await after_action(request, connection_id, "Connection accepted.", form.get("return_to"))

    @post("/{connection_id:int}/decline", name="decline_connection", opt={"reload": "connection"})
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
        row = await connections.one_row(request.user, connection.id, today(request))
        return render(
            request,
            "connections/cancel.html",
            "partials/connections/_cancel_confirm.html",  # type: ignore[return-value]
            c=row,
            role=request.user.role,
            today=today(request),
        )

    @post("/{connection_id:int}/cancel", name="cancel_connection")
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
