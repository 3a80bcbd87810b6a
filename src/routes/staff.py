"""Staff: a minimal way to add a learner, who gets an email to activate the account."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar_htmx import ClientRedirect

from src import accounts
from src.forms import Form, read_form
from src.guards import requires_staff
from src.htmx import redirect, render
from src.mail import poke_worker
from src.routes.common import tokens_of, url


async def _learners_page(request: Request[Any, Any, Any], form: Form | None = None) -> Template:
    """The newest learners and the form to add one; with `form`, again after it was refused (422)."""
    return render(
        request,
        "staff/learners.html",
        "partials/staff/_learner_form.html",
        status_code=422 if form else 200,
        learners=await accounts.newest_learners(),
        values=form.kept() if form else {},
        errors=form.errors if form else {},
    )


class StaffController(Controller):
    path = "/staff/learners"
    guards = [requires_staff]

    @get("/", name="staff_learners")
    async def list_learners(self, request: Request[Any, Any, Any]) -> Template:
        """Page: the newest learners and the form to add one. htmx: the form alone."""
        return await _learners_page(request)

    @post("/", name="add_learner")
    async def add_learner(self, request: Request[Any, Any, Any]) -> Template | Redirect | ClientRedirect:
        """Add a learner and email them an activation link. Errors: 422, values kept."""
        form = await read_form(request)
        learner = await accounts.check_new_learner(form)
        if learner is None:
            return await _learners_page(request, form)
        await accounts.create_learner(
            tokens_of(request), learner.first_name, learner.last_name, learner.email
        )
        poke_worker(request.app)
        flash(
            request,
            f"{learner.first_name} {learner.last_name} has been added and sent an activation email.",
            category="success",
        )
        return redirect(request, url(request, "staff_learners"))
