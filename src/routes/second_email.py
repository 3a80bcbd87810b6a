"""A second email address on the profile: add it (a link to confirm it), confirm it from that link,
make it the main address, remove it. Each answers htmx with the profile's second-address section.
Adding asks for the password (and a recent step with two-step sign-in on); making it the main
address and removing it ask for a recent step, as every change of a sign-in address does."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar_htmx import ClientRedirect

from src import accounts, connections
from src.errors import Refused
from src.forms import Form, read_form
from src.guards import requires_learner_or_third_party
from src.htmx import redirect, render, wants_fragment
from src.mail import poke_worker
from src.routes.account import email_budget
from src.routes.common import tokens_of, url
from src.routes.profile import manage_page, second_step_up
from src.tokens import TokenError

SECTION = "partials/profile/_second_email.html"


def _section(request: Request[Any, Any, Any], status: int = 200, **context: Any) -> Template:
    values = {
        "account": request.user,
        "second_values": {},
        "second_errors": {},
        "second_saved": None,
        "second_step_up": second_step_up(request),
    }
    return render(request, "profile/index.html", SECTION, status_code=status, **{**values, **context})


async def _refused(request: Request[Any, Any, Any], form: Form, status: int = 422) -> Template:
    """The section (htmx) or the profile (a plain form) again, with the errors and what was typed."""
    if wants_fragment(request):
        return _section(request, status, second_values=form.kept(), second_errors=form.errors)
    return await manage_page(request, status, second_values=form.kept(), second_errors=form.errors)


async def _stepped_up(request: Request[Any, Any, Any], form: Form, *, asks_password: bool) -> int | None:
    """None when a recent step covers the change (or the form brings one); else the refusal's status,
    its message placed on the form."""
    try:
        await accounts.check_step_up(
            request.session, request.user, form, tokens_of(request), asks_password=asks_password
        )
    except Refused as refusal:
        form.error(refusal.field, refusal.message)
        return accounts.step_up_status(refusal)
    return None


async def _answer(request: Request[Any, Any, Any], message: str) -> Template | Redirect:
    """After a change: htmx gets the section saying what happened; a plain form, a flash and the profile."""
    poke_worker(request.app)
    if wants_fragment(request):
        return _section(request, second_saved=message)
    flash(request, message, category="success")
    return Redirect(path=url(request, "profile") + "#second-email", status_code=303)


class SecondEmailController(Controller):
    path = "/profile/second-email"
    guards = [requires_learner_or_third_party]  # staff accounts keep one address, made by the CLI

    @post("/", name="add_second_email", opt={"reload": "profile"})
    async def add_second_email(self, request: Request[Any, Any, Any]) -> Template | Redirect | ClientRedirect:
        """Ask for a second address (needs the current password): a link goes to it. Errors: 422, kept."""
        form = await read_form(request)
        email = await accounts.check_second_email(form, request.user)
        if email is None:
            locked = form.errors.get("password_for_second") == accounts.LOCKED
            return await _refused(request, form, 429 if locked else 422)
        status = await _stepped_up(request, form, asks_password=True)
        if status is not None:
            return await _refused(request, form, status)
        await accounts.add_second_email(tokens_of(request), request.user, email, email_budget(request))
        return await _answer(
            request, f"We have sent a link to {email}: it becomes your second address when you open it."
        )

    @get("/confirm/{token:str}", name="confirm_second_email")
    async def confirm_second_email(
        self, request: Request[Any, Any, Any], token: FromPath[str]
    ) -> Template | Redirect:
        """The link sent to the new address: makes it the account's second address."""
        try:
            await accounts.confirm_second_email(
                tokens_of(request), token, on_verified=connections.attach_pending
            )
        except TokenError as exc:
            return render(
                request, "account/link_problem.html", status_code=400, reason=exc.reason, purpose="second"
            )
        poke_worker(request.app)
        flash(request, "Your second email address is confirmed.", category="success")
        return Redirect(path=url(request, "profile") + "#second-email", status_code=303)

    @post("/main", name="make_second_email_main", opt={"reload": "profile"})
    async def make_main(self, request: Request[Any, Any, Any]) -> Template | Redirect | ClientRedirect:
        """Swap the two addresses, then the whole profile again (its details show the main address)."""
        account = request.user
        form = await read_form(request)
        status = await _stepped_up(request, form, asks_password=False)
        if status is not None:
            return await _refused(request, form, status)
        if await accounts.make_second_email_main(account):
            poke_worker(request.app)
            flash(request, f"{account.email} is now your main email address.", category="success")
        else:
            flash(request, "Nothing changed: you have no second email address.", category="info")
        return redirect(request, url(request, "profile") + "#second-email")

    @post("/remove", name="remove_second_email", opt={"reload": "profile"})
    async def remove(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        """Remove the second address (after a recent step), or drop the one waiting for its link.
        htmx: the section."""
        form = await read_form(request)
        if request.user.second_email is not None:
            status = await _stepped_up(request, form, asks_password=False)
            if status is not None:
                return await _refused(request, form, status)
        done = await accounts.remove_second_email(request.user)
        if done == "removed":
            return await _answer(request, "Your second email address is removed.")
        if done == "cancelled":
            return await _answer(request, "The address is no longer waiting: its link no longer works.")
        return await _answer(request, "You have no second email address.")
