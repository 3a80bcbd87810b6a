"""The start page, the dashboard after log-in, and a health check for load balancers."""

from __future__ import annotations

from typing import Any

from litestar import Controller, MediaType, Request, get
from litestar.response import Redirect, Template

from src import accounts, connections
from src.guards import requires_login
from src.htmx import render
from src.routes.common import today, url
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
            suggest_two_step=accounts.suggest_two_step(account),
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
