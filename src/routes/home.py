"""The start page, the dashboard after log-in, and the health and readiness checks for load balancers."""

from __future__ import annotations

from typing import Any

from litestar import Controller, MediaType, Request, get
from litestar.response import Redirect, Response, Template
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from src import connections
from src.guards import requires_login
from src.htmx import render
from src.routes.common import today, url
from src.server import Readiness
from src.tables.accounts import Role


class HomeController(Controller):
    @get("/", name="home")
    async def show_home(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        """Page: what the portal is, with log-in and register; logged-in people go to their dashboard."""
        if request.user is not None:
            return Redirect(path=url(request, "dashboard"), status_code=303)
        return render(request, "home/index.html")

    @get("/dashboard", name="dashboard", guards=[requires_login])
    async def show_dashboard(self, request: Request[Any, Any, Any]) -> Template:
        """Page: the landing page after log-in, by role."""
        account = request.user
        counts = None
        if account.role in (Role.learner.value, Role.third_party.value):
            counts = await connections.counts_for(account, today(request))
        return render(
            request,
            "home/dashboard.html",
            account=account,
            counts=counts,
            role=account.role,
            today=today(request),
        )

    @get(
        "/healthz",
        media_type=MediaType.TEXT,
        name="health",
        opt={"skip_session": True, "exclude_from_csrf": True},
    )
    async def check_health(self) -> str:
        """Plain text: the process answers (the database is checked by its first query)."""
        return "ok"

    @get(
        "/readyz",
        media_type=MediaType.TEXT,
        name="readiness",
        opt={"skip_session": True, "exclude_from_csrf": True},
    )
    async def check_readiness(self, request: Request[Any, Any, Any]) -> Response[str]:
        """Plain text: "ready", or 503 with what is missing (the database, Redis, or the process is
        stopping) and Retry-After, so the load balancer sends requests to other processes."""
        readiness: Readiness = request.app.state.readiness
        problem = await readiness.problem()
        if problem is None:
            return Response("ready", status_code=HTTP_200_OK, headers={"Cache-Control": "no-store"})
        return Response(
            problem,
            status_code=HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Cache-Control": "no-store", "Retry-After": "5"},
        )
