"""Becoming an account holder: register (third parties), verify the email address, resend the link,
and activate (learners whose account staff created)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from litestar import Controller, Request, get, post
from litestar.exceptions import TooManyRequestsException
from litestar.params import FromPath, FromQuery
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar_htmx import ClientRedirect

from src import accounts, connections, throttle
from src.forms import EMAIL_RE, Form, read_form
from src.htmx import redirect, render
from src.mail import poke_worker
from src.routes.common import client_ip, settings_of, tokens_of, url
from src.tokens import VERIFY_EMAIL_MAX_AGE, TokenError

EMAIL_FORM_LIMIT = 10  # per IP per hour, for forms that send email


async def limit_email_forms(request: Request[Any, Any, Any], name: str) -> None:
    store = request.app.stores.get("throttle")
    if await throttle.hit(store, f"{name}:{client_ip(request)}", 3600) > EMAIL_FORM_LIMIT:
        raise TooManyRequestsException("You have sent this form too many times. Try again in an hour.")


def email_budget(request: Request[Any, Any, Any]) -> Callable[[str], Awaitable[bool]]:
    """Emails per recipient an hour, counted in the shared store across every form that sends one."""
    return partial(throttle.may_email, request.app.stores.get("throttle"))


def set_password_page(
    request: Request[Any, Any, Any],
    page: str,
    account: Any,
    action: str,
    form: Form | None = None,
) -> Template:
    """The page an emailed link opens to choose a password (activation or reset), posting back to
    `action` (the link's own path); with `form`: again after the password was refused (422)."""
    return render(
        request,
        page,
        "partials/account/_set_password_form.html",
        status_code=422 if form else 200,
        account=account,
        action=action,
        errors=form.errors if form else {},
    )


def link_problem(request: Request[Any, Any, Any], exc: TokenError, purpose: str) -> Template:
    """An emailed link that cannot be used: why, and what to do instead."""
    return render(request, "account/link_problem.html", status_code=400, reason=exc.reason, purpose=purpose)


class AccountController(Controller):
    @get("/register", name="register")
    async def show_register(self, request: Request[Any, Any, Any], email: FromQuery[str] = "") -> Template:
        """Page: the registration form (the invited address filled in from an invitation's link).
        htmx: the form alone."""
        email = email.strip().lower()
        values = {"email": email} if len(email) <= 254 and EMAIL_RE.match(email) else {}
        return render(
            request, "account/register.html", "partials/account/_register_form.html", values=values, errors={}
        )

    @post("/register", name="register_account")
    async def register(self, request: Request[Any, Any, Any]) -> Template | Redirect | ClientRedirect:
        """Register a third party, then 'check your email' (also when the user name or address is taken:
        the email says so). Errors in what was typed: the form again, 422, values kept."""
        form = await read_form(request)
        new = accounts.check_registration(form, settings_of(request).org_name)
        if new is not None:
            await limit_email_forms(request, "register")
            # Whether the user name or the address is taken is told by email, never on this page.
            await accounts.register(tokens_of(request), new, email_budget(request))
        if new is None:
            return render(
                request,
                "account/register.html",
                "partials/account/_register_form.html",
                status_code=422,
                values=form.kept("password"),
                errors=form.errors,
            )
        poke_worker(request.app)
        request.session["check_email"] = new.email
        return redirect(request, url(request, "check_email"))

    @get("/register/check-email", name="check_email")
    async def show_check_email(self, request: Request[Any, Any, Any]) -> Template:
        """Page: 'we have sent you a link', the same whether or not the address was new."""
        return render(
            request,
            "account/check_email.html",
            email=request.session.get("check_email"),
            hours=VERIFY_EMAIL_MAX_AGE // 3600,
        )

    @get("/verify-email/{token:str}", name="verify_email")
    async def verify_email(
        self, request: Request[Any, Any, Any], token: FromPath[str]
    ) -> Template | Redirect:
        """The link from the email: marks the address verified, then the log-in page."""
        try:
            await accounts.verify_email(tokens_of(request), token, on_verified=connections.attach_pending)
        except TokenError as exc:
            return link_problem(request, exc, "verify")
        flash(request, "Your email address is verified. You can now log in.", category="success")
        return Redirect(path=url(request, "login"), status_code=303)

    @get("/verify-email/resend", name="resend_verification")
    async def show_resend(self, request: Request[Any, Any, Any]) -> Template:
        """Page: ask for a new verification link."""
        return render(
            request, "account/resend.html", "partials/account/_resend_form.html", values={}, errors={}
        )

    @post("/verify-email/resend", name="send_verification")
    async def resend_verification(
        self, request: Request[Any, Any, Any]
    ) -> Template | Redirect | ClientRedirect:
        """Send a new link if the address belongs to an unverified account; answer the same regardless."""
        form = await read_form(request)
        email = accounts.check_email_form(form)
        if email is None:
            return render(
                request,
                "account/resend.html",
                "partials/account/_resend_form.html",
                status_code=422,
                values=form.kept(),
                errors=form.errors,
            )
        await limit_email_forms(request, "resend")
        await accounts.resend_verification(tokens_of(request), email, email_budget(request))
        poke_worker(request.app)
        request.session["check_email"] = email
        return redirect(request, url(request, "check_email"))

    @get("/email-change/stop/{token:str}", name="stop_email_change")
    async def show_stop_email_change(self, request: Request[Any, Any, Any], token: FromPath[str]) -> Template:
        """Page: the link sent to the old address; a button stops the change (a GET never changes
        anything, as mail scanners open links)."""
        try:
            account = await accounts.pending_change_for_stop_link(tokens_of(request), token)
        except TokenError as exc:
            return render(
                request, "account/link_problem.html", status_code=400, reason=exc.reason, purpose="stop"
            )
        return render(
            request,
            "account/stop_email_change.html",
            new_email=account.pending_email,
            action=url(request, "stop_email_change", token=token),
            stopped=False,
        )

    @post("/email-change/stop/{token:str}", name="confirm_stop_email_change")
    async def stop_email_change(self, request: Request[Any, Any, Any], token: FromPath[str]) -> Template:
        """Stop the change and end every session of the account, then say so."""
        try:
            await accounts.stop_email_change(tokens_of(request), token)
        except TokenError as exc:
            return render(
                request, "account/link_problem.html", status_code=400, reason=exc.reason, purpose="stop"
            )
        return render(request, "account/stop_email_change.html", stopped=True)

    @get("/activate/{token:str}", name="activate")
    async def show_activate(self, request: Request[Any, Any, Any], token: FromPath[str]) -> Template:
        """Page: a learner chooses a password to activate the account staff made for them."""
        try:
            account = await accounts.account_for_link(tokens_of(request), "activate", token)
        except TokenError as exc:
            return link_problem(request, exc, "activate")
        return set_password_page(
            request, "account/activate.html", account, url(request, "activate_account", token=token)
        )

    @post("/activate/{token:str}", name="activate_account")
    async def activate(
        self, request: Request[Any, Any, Any], token: FromPath[str]
    ) -> Template | Redirect | ClientRedirect:
        """Set the first password, verify the address (the link proved it), then the log-in page."""
        try:
            account = await accounts.account_for_link(tokens_of(request), "activate", token)
        except TokenError as exc:
            return link_problem(request, exc, "activate")
        form = await read_form(request)
        password = accounts.check_new_password(form, account, settings_of(request).org_name)
        if password is None:
            action = url(request, "activate_account", token=token)
            return set_password_page(request, "account/activate.html", account, action, form)
        await accounts.set_password(account, password, on_verified=connections.attach_pending)
        poke_worker(request.app)
        flash(
            request, "Your account is ready. Log in with your user name and new password.", category="success"
        )
        return redirect(request, url(request, "login"))
