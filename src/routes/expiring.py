"""A third party's "Expiring soon": the documents they can see today whose own validity ends within
90 days, soonest first (the document's "valid until", worded apart from "your access ends")."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromQuery
from litestar.response import Template

from src import connections
from src.guards import requires_third_party
from src.htmx import render
from src.routes.common import today


class ExpiringController(Controller):
    guards = [requires_third_party]

    @get("/connections/expiring-soon", name="expiring_soon")
    async def list_expiring(self, request: Request[Any, Any, Any], page: FromQuery[int] = 1) -> Template:
        """Page: shared documents valid until a day within 90 days, soonest first, a page at a time.
        htmx: the list alone."""
        day = today(request)
        found = await connections.expiring_page(request.user, day, page)
        return render(
            request,
            "connections/expiring.html",
            "partials/connections/_expiring.html",
            found=found,
            days=connections.EXPIRING_DAYS,
            today=day,
        )
