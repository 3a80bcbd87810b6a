"""Manage: personal details, extra contact details, and deleting the account."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar_htmx import ClientRedirect

from src import accounts, connections
from src.auth import end_session
from src.errors import Refused
from src.forms import read_form
from src.guards import requires_login
from src.htmx import redirect, render, wants_fragment
from src.mail import poke_worker
from src.routes.common import step_up, tokens_of, url
from src.tokens import TokenError

LOCKED = accounts.LOCKED


def second_step_up(request: Request[Any, Any, Any]) -> str | None:
    """The second-address section's step-up prompt: adding one asks for the password anyway (a code
    too, with two-step sign-in on, when the last step is not recent); making it the main address or
    removing it asks for a recent step."""
    return step_up(request, asks_password=request.user.second_email is None)


async def manage_page(request: Request[Any, Any, Any], status: int = 200, **overrides: Any) -> Template:
    """The whole profile page (its sections' forms empty unless `overrides` say otherwise)."""
    account = request.user
    context: dict[str, Any] = {
        "account": account,
        "values": accounts.details_values(account),
        "errors": {},
        "contacts": await accounts.contacts_of(account),
        "contact_values": {},
        "contact_errors": {},
        "addresses": await accounts.addresses_of(account),
        "saved": None,
        "second_values": {},
        "second_errors": {},
        "second_step_up": second_step_up(request),
        "step_up": None,
    }
    context.update(overrides)
    return Template(
        template_name="profile/index.html",
        context=context,
        status_code=status,
        headers={"Vary": "HX-Request"},
    )


class ProfileController(Controller):
    path = "/profile"
    guards = [requires_login]

    @get("/", name="profile")
    async def show_profile(self, request: Request[Any, Any, Any]) -> Template:
        """Page: every part of the profile, each section a partial that htmx updates alone."""
        return await manage_page(request)

    @post("/details", name="update_details", opt={"reload": "profile"})
    async def update_details(self, request: Request[Any, Any, Any]) -> Template | Redirect | ClientRedirect:
        """Save personal details. htmx: the details form again with 'saved'. Errors: 422, values kept."""
        form = await read_form(request)
        pending = await accounts.update_details(tokens_of(request), request.user, form, request.session)
        if not form.ok:
            # A new email address needs a recent step: the prompt shows once it was asked for.
            asked = any(name in form.errors for name in accounts.STEP_UP_FIELDS)
            prompt = step_up(request, asks_password=True) if asked else None
            kept = form.kept(*accounts.STEP_UP_FIELDS)
            if wants_fragment(request):
                return render(
                    request,
                    "profile/index.html",
                    "partials/profile/_details_form.html",
                    status_code=422,
                    values=kept,
                    errors=form.errors,
                    saved=None,
                    step_up=prompt,
                )
            return await manage_page(request, 422, values=kept, errors=form.errors, step_up=prompt)
        poke_worker(request.app)
        message = "Your details have been saved."
        if pending:
            message += (
                f" We have sent a link to {pending}: your email address changes when you open it."
                " We have told your current address too."
            )
        if wants_fragment(request):
            account = await accounts.find_by_login(form.get("username"))
            values = accounts.details_values(account) if account else form.kept()
            return render(
                request,
                "profile/index.html",
                "partials/profile/_details_form.html",
                values=values,
                errors={},
                saved=message,
            )
        flash(request, message, category="success")
        return Redirect(path=url(request, "profile"), status_code=303)

    @get("/email/{token:str}", name="confirm_email_change")
    async def confirm_email_change(
        self, request: Request[Any, Any, Any], token: FromPath[str]
    ) -> Template | Redirect:
        """The link sent to a new address: makes it the account's email address."""
        try:
            await accounts.confirm_email_change(
                tokens_of(request), token, on_verified=connections.attach_pending
            )
        except TokenError as exc:
            return render(
                request, "account/link_problem.html", status_code=400, reason=exc.reason, purpose="verify"
            )
        poke_worker(request.app)
        flash(request, "Your new email address is confirmed.", category="success")
        return Redirect(path=url(request, "profile"), status_code=303)

    @post("/contacts", name="add_contact", opt={"reload": "profile"})
    async def add_contact(self, request: Request[Any, Any, Any]) -> Template | Redirect | ClientRedirect:
        """Add a phone number or email. htmx: the contacts section. Errors: 422, values kept."""
        form = await read_form(request)
        await accounts.add_contact(request.user, form)
        status = 200 if form.ok else 422
        if wants_fragment(request):
            return render(
                request,
                "profile/index.html",
                "partials/profile/_contacts.html",
                status_code=status,
                contacts=await accounts.contacts_of(request.user),
                contact_values={} if form.ok else form.kept(),
                contact_errors=form.errors,
            )
        if not form.ok:
            return await manage_page(request, 422, contact_values=form.kept(), contact_errors=form.errors)
        flash(request, "Contact detail added.", category="success")
        return Redirect(path=url(request, "profile") + "#contacts", status_code=303)

    @post("/contacts/{contact_id:int}/delete", name="remove_contact", opt={"reload": "profile"})
    async def remove_contact(
        self, request: Request[Any, Any, Any], contact_id: FromPath[int]
    ) -> Template | Redirect:
        """Remove one of your contact details (someone else's answers 404). htmx: the contacts section."""
        if not await accounts.remove_contact(request.user, contact_id):
            raise NotFoundException()
        if wants_fragment(request):
            return render(
                request,
                "profile/index.html",
                "partials/profile/_contacts.html",
                contacts=await accounts.contacts_of(request.user),
                contact_values={},
                contact_errors={},
            )
        flash(request, "Contact detail removed.", category="success")
        return Redirect(path=url(request, "profile") + "#contacts", status_code=303)

    @get("/delete", name="delete_account")
    async def show_delete(self, request: Request[Any, Any, Any]) -> Template:
        """Page: what deleting removes and what is kept, and a password to confirm (and a code when
        two-step sign-in is on and the last step is not recent)."""
        return render(
            request,
            "profile/delete.html",
            "partials/profile/_delete_form.html",
            errors={},
            step_up=step_up(request, asks_password=True),
        )

    @post("/delete", name="erase_account")
    async def delete_account(self, request: Request[Any, Any, Any]) -> Template | Redirect | ClientRedirect:
        """Delete the account after the password is confirmed; logs out everywhere."""
        form = await read_form(request)
        status = 422
        try:
            await accounts.check_step_up(
                request.session, request.user, form, tokens_of(request), asks_password=True
            )
        except Refused as refusal:
            form.error(refusal.field, refusal.message)
            status = accounts.step_up_status(refusal)
        if not form.ok or not await accounts.check_deletion(form, request.user):
            return render(
                request,
                "profile/delete.html",
                "partials/profile/_delete_form.html",
                status_code=429 if form.errors.get("password") == LOCKED else status,
                errors=form.errors,
                step_up=step_up(request, asks_password=True),
            )
        await accounts.delete_account(request.user)
        poke_worker(request.app)
        end_session(request)
        flash(request, "Your account has been deleted.", category="success")
        return redirect(request, url(request, "home"))
