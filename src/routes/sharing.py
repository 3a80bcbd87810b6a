"""Starting a connection: a third party's Add Connection (by the learner's email) and a learner's Share."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import TooManyRequestsException
from litestar.plugins.flash import flash
from litestar.response import Template

from src import throttle
from src.connections import DEFAULT_DAYS, MAX_DAYS, Refused, add_connection, share
from src.documents import owned_by
from src.forms import flatten_date, parse_date, read_form
from src.guards import requires_learner, requires_third_party
from src.htmx import redirect, render
from src.mail import poke_worker
from src.routes.connection_common import parse_ids, today

ADD_LIMIT_PER_HOUR = 30
# Shares a learner may start a day. Every share counts, not only those that email an invitation to an
# unknown address: counting only invitations would tell the learner which addresses have accounts.
SHARES_PER_DAY = 20


class SharingController(Controller):
    @get("/connections/new", name="add_connection", guards=[requires_third_party])
    async def show_add_connection(self, request: Request[Any, Any, Any]) -> Template:
        """Page: Add Connection, by the learner's email address. htmx: the form alone."""
        return render(
            request, "connections/new.html", "partials/connections/_add_form.html", values={}, errors={}
        )

    @post("/connections/new", guards=[requires_third_party])
    async def add_connection(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Ask a learner to connect. The answer is the same whether or not the learner exists."""
        form = await read_form(request)
        email = form.email("email")
        message = form.optional("message", 500)
        if form.ok:
            store = request.app.stores.get("throttle")
            if await throttle.hit(store, f"add-connection:{request.user.id}", 3600) > ADD_LIMIT_PER_HOUR:
                raise TooManyRequestsException(
                    "You have sent many requests in the last hour. Try again later."
                )
            try:
                connection = await add_connection(request.user, email, message, today(request))
            except Refused as exc:
                form.error("email", str(exc))
        if not form.ok:
            return render(
                request,
                "connections/new.html",
                "partials/connections/_add_form.html",  # type: ignore[return-value]
                status_code=422,
                values=form.kept(),
                errors=form.errors,
            )
        poke_worker(request.app)
        flash(request, f"Request sent to {email}. It shows as waiting until the learner answers.", "success")
        return redirect(request, f"/connections/{connection.id}")  # type: ignore[return-value]

    @get("/share", name="share", guards=[requires_learner])
    async def show_share(self, request: Request[Any, Any, Any]) -> Template:
        """Page: share documents with someone by email until a date (default 30 days)."""
        day = today(request)
        values = flatten_date("expires_on", day + timedelta(days=DEFAULT_DAYS))
        return render(
            request,
            "connections/share.html",
            "partials/connections/_share_form.html",
            values=values,
            errors={},
            documents=await owned_by(request.user),
            chosen=set(),
            default_days=DEFAULT_DAYS,
            max_days=MAX_DAYS,
            latest=day + timedelta(days=MAX_DAYS),
        )

    @post("/share", guards=[requires_learner])
    async def share_documents(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Share, then the new connection's page. Errors: 422 with everything kept."""
        form = await read_form(request)
        data = await request.form()
        day = today(request)
        email = form.email("email")
        ids = parse_ids(data.getall("documents", []))
        if not ids:
            form.error("documents", "Choose at least one document to share")
        expires_on = parse_date(form, "expires_on", "the date access ends", required=True)
        if form.ok and expires_on is not None:
            store = request.app.stores.get("throttle")
            if await throttle.hit(store, f"share:{request.user.id}", 86400) > SHARES_PER_DAY:
                raise TooManyRequestsException(
                    f"You have shared {SHARES_PER_DAY} times today. Try again tomorrow."
                )
            try:
                connection = await share(request.user, email, ids, expires_on, day)
            except Refused as exc:
                field = (
                    "expires_on"
                    if "date" in str(exc)
                    else ("documents" if "document" in str(exc) else "email")
                )
                form.error(field, str(exc))
        if not form.ok:
            return render(
                request,
                "connections/share.html",
                "partials/connections/_share_form.html",  # type: ignore[return-value]
                status_code=422,
                values=form.kept(),
                errors=form.errors,
                documents=await owned_by(request.user),
                chosen=set(ids),
                default_days=DEFAULT_DAYS,
                max_days=MAX_DAYS,
                latest=day + timedelta(days=MAX_DAYS),
            )
        poke_worker(request.app)
        flash(request, f"Shared with {email}. They can see the documents once they accept.", "success")
        return redirect(request, f"/connections/{connection.id}")  # type: ignore[return-value]
