"""Starting a connection: a third party's Add Connection (by the learner's email) and a learner's Share."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import TooManyRequestsException
from litestar.plugins.flash import flash
from litestar.response import Template

from src import throttle
from src.connections import (
    DEFAULT_DAYS,
    MAX_DAYS,
    add_connection,
    check_add_connection,
    check_share,
    place_refusal,
    share,
)
from src.documents import owned_by
from src.errors import Refused
from src.forms import Form, flatten_date, read_form
from src.guards import requires_learner, requires_third_party
from src.htmx import redirect, render
from src.mail import poke_worker
from src.routes.common import today, url

ADD_LIMIT_PER_HOUR = 30
# Shares a learner may start a day. Every share counts, not only those that email an invitation to an
# unknown address: counting only invitations would tell the learner which addresses have accounts.
SHARES_PER_DAY = 20


def _add_page(request: Request[Any, Any, Any], form: Form | None = None) -> Template:
    """Add Connection; with `form`, again after it was refused (422, what was typed kept)."""
    return render(
        request,
        "connections/new.html",
        "partials/connections/_add_form.html",
        status_code=422 if form else 200,
        values=form.kept() if form else {},
        errors=form.errors if form else {},
    )


async def _share_page(request: Request[Any, Any, Any], form: Form | None = None) -> Template:
    """Share; new, the end date is DEFAULT_DAYS away. With `form`: again after it was refused (422,
    what was typed and ticked kept)."""
    day = today(request)
    return render(
        request,
        "connections/share.html",
        "partials/connections/_share_form.html",
        status_code=422 if form else 200,
        values=form.kept() if form else flatten_date("expires_on", day + timedelta(days=DEFAULT_DAYS)),
        errors=form.errors if form else {},
        documents=await owned_by(request.user),
        chosen=set(form.ids("documents")) if form else set(),
        default_days=DEFAULT_DAYS,
        max_days=MAX_DAYS,
        latest=day + timedelta(days=MAX_DAYS),
    )


class SharingController(Controller):
    @get("/connections/new", name="add_connection", guards=[requires_third_party])
    async def show_add_connection(self, request: Request[Any, Any, Any]) -> Template:
        """Page: Add Connection, by the learner's email address. htmx: the form alone."""
        return _add_page(request)

    @post("/connections/new", name="send_connection_request", guards=[requires_third_party])
    async def add_connection(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Ask a learner to connect. The answer is the same whether or not the learner exists."""
        form = await read_form(request)
        asked = check_add_connection(form)
        if asked is not None:
            store = request.app.stores.get("throttle")
            if await throttle.hit(store, f"add-connection:{request.user.id}", 3600) > ADD_LIMIT_PER_HOUR:
                raise TooManyRequestsException(
                    "You have sent many requests in the last hour. Try again later."
                )
            try:
                connection = await add_connection(request.user, asked.email, asked.message, today(request))
            except Refused as exc:
                place_refusal(form, exc, default="email")
        if asked is None or not form.ok:
            return _add_page(request, form)  # type: ignore[return-value]
        poke_worker(request.app)
        flash(
            request,
            f"Request sent to {asked.email}. It shows as waiting until the learner answers.",
            "success",
        )
        return redirect(request, url(request, "connection", connection_id=connection.id))  # type: ignore[return-value]

    @get("/share", name="share", guards=[requires_learner])
    async def show_share(self, request: Request[Any, Any, Any]) -> Template:
        """Page: share documents with someone by email until a date (default 30 days)."""
        return await _share_page(request)

    @post("/share", name="share_documents", guards=[requires_learner])
    async def share_documents(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Share, then the new connection's page. Errors: 422 with everything kept."""
        form = await read_form(request)
        shared = check_share(form)
        if shared is not None:
            store = request.app.stores.get("throttle")
            if await throttle.hit(store, f"share:{request.user.id}", 86400) > SHARES_PER_DAY:
                raise TooManyRequestsException(
                    f"You have shared {SHARES_PER_DAY} times today. Try again tomorrow."
                )
            try:
                connection = await share(
                    request.user, shared.email, shared.document_ids, shared.expires_on, today(request)
                )
            except Refused as exc:
                place_refusal(form, exc, default="email")
        if shared is None or not form.ok:
            return await _share_page(request, form)  # type: ignore[return-value]
        poke_worker(request.app)
        flash(request, f"Shared with {shared.email}. They can see the documents once they accept.", "success")
        return redirect(request, url(request, "connection", connection_id=connection.id))  # type: ignore[return-value]
