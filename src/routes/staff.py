"""Staff: a minimal way to add a learner, who gets an email to activate the account."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar_htmx import ClientRedirect

from src import accounts
from src.errors import Refused
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


def _reset_page(request: Request[Any, Any, Any], form: Form | None = None, status: int = 200) -> Template:
    return render(
        request,
        "staff/two_step_reset.html",
        "partials/staff/_two_step_reset_form.html",
        status_code=status,
        values=form.kept() if form else {},
        errors=form.errors if form else {},
    )


class StaffTwoStepController(Controller):
    """Staff reset another person's two-step sign-in (a lost phone and no recovery codes left)."""

    path = "/staff/two-step"
    guards = [requires_staff]

    @get("/", name="staff_two_step")
    async def show_reset(self, request: Request[Any, Any, Any]) -> Template:
        """Page: whose two-step sign-in to reset, and why. htmx: the form alone."""
        return _reset_page(request)

    @post("/", name="staff_reset_two_step")
    async def reset(self, request: Request[Any, Any, Any]) -> Template | Redirect | ClientRedirect:
        """Reset it: the person's authenticator and recovery codes go, all their sessions end, they are
        emailed, and the reason is in the audit log. Never one's own. Errors: 422, values kept."""
        form = await read_form(request)
        login = form.required("login", "Enter the person's user name or email address", 254)
        reason = form.required(
            "reason", "Say why, for the audit log (for example how you checked who they are)", 150
        )
        person = await accounts.find_by_login(login) if form.ok else None
        if form.ok and person is None:
            form.error("login", "No account has that user name or email address")
        if person is None or not form.ok:
            return _reset_page(request, form, 422)
        try:
            await accounts.reset_by_staff(request.user, person, reason)
        except Refused as refusal:
            form.error(refusal.field or "login", refusal.message)
            return _reset_page(request, form, 422)
        poke_worker(request.app)
        flash(
            request,
            f"Two-step sign-in of {person.username} has been reset: they have been logged out everywhere "
            "and emailed. They can set it up again after their next log-in.",
            category="success",
        )
        return redirect(request, url(request, "staff_two_step"))
