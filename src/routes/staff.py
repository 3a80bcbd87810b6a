"""Staff: a minimal way to add a learner, who gets an email to activate the account."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar_htmx import ClientRedirect

from src import accounts
from src.forms import read_form
from src.guards import requires_staff
from src.htmx import redirect, render
from src.mail import poke_worker
from src.routes.common import tokens_of


class StaffController(Controller):
    path = "/staff/learners"
    guards = [requires_staff]

    @get("/", name="staff_learners")
    async def list_learners(self, request: Request[Any, Any, Any]) -> Template:
        """Page: the newest learners and the form to add one. htmx: the form alone."""
        learners = await accounts.newest_learners()
        return render(
            request,
            "staff/learners.html",
            "partials/staff/_learner_form.html",
            learners=learners,
            values={},
            errors={},
        )

    @post("/", name="add_learner")
    async def add_learner(self, request: Request[Any, Any, Any]) -> Template | Redirect | ClientRedirect:
        """Add a learner and email them an activation link. Errors: 422, values kept."""
        form = await read_form(request)
        first = form.required("first_name", "Enter the learner's first name")
        last = form.required("last_name", "Enter the learner's last name")
        email = form.email("email")
        if form.ok and await accounts.email_taken(email):
            form.error("email", "An account already uses this email address")
        if not form.ok:
            learners = await accounts.newest_learners()
            return render(
                request,
                "staff/learners.html",
                "partials/staff/_learner_form.html",
                status_code=422,
                learners=learners,
                values=form.kept(),
                errors=form.errors,
            )
        await accounts.create_learner(tokens_of(request), first, last, email)
        poke_worker(request.app)
        flash(request, f"{first} {last} has been added and sent an activation email.", category="success")
        return redirect(request, "/staff/learners")
