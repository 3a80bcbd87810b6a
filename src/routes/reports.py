"""Your reports: the problems this person reported on documents, their states and the answers."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Template

from src import reports
from src.guards import requires_learner_or_third_party
from src.htmx import render
from src.tables.accounts import Role


class ReportController(Controller):
    path = "/reports"
    guards = [requires_learner_or_third_party]

    @get("/", name="reports")
    async def list_reports(self, request: Request[Any, Any, Any]) -> Template:
        """Page: the person's reports, newest first, each with its state and the staff answer."""
        return render(
            request,
            "reports/list.html",
            rows=await reports.by_reporter(request.user),
            states=reports.STATES,
            # In the person's own words; every category stays readable (reports sent before).
            categories={
                **reports.CATEGORIES,
                **reports.categories_for(third_party=request.user.role == Role.third_party.value),
            },
        )
