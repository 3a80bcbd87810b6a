"""Passwords: forgotten (emailed link), reset (from the link), and change (logged in)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar_htmx import ClientRedirect

from src import accounts
from src.auth import end_session, start_session
from src.errors import Refused
from src.forms import read_form
from src.guards import requires_login
from src.htmx import redirect, render
from src.mail import poke_worker
from src.routes.account import email_budget, limit_email_forms, link_problem, set_password_page
from src.routes.common import settings_of, step_up, tokens_of, url
from src.tokens import TokenError


class PasswordController(Controller):
    @get("/forgot-password", name="forgot_password")
    async def show_forgot(self, request: Request[Any, Any, Any]) -> Template:
        """Page: ask for a reset link. htmx: the form alone."""
        return render(
            request, "account/forgot.html", "partials/account/_forgot_form.html", values={}, errors={}
        )

    @post("/forgot-password", name="send_reset_link")
    async def forgot_password(self, request: Request[Any, Any, Any]) -> Template | Redirect | ClientRedirect:
        """Email a reset link if the account exists; the answer is the same either way."""
        form = await read_form(request)
        identifier = accounts.check_forgot(form)
        if identifier is None:
            return render(
                request,
                "account/forgot.html",
                "partials/account/_forgot_form.html",
                status_code=422,
                values=form.kept(),
                errors=form.errors,
            )
        await limit_email_forms(request, "forgot")
        await accounts.request_password_reset(tokens_of(request), identifier, email_budget(request))
        poke_worker(request.app)
        return redirect(request, url(request, "forgot_sent"))

    @get("/forgot-password/sent", name="forgot_sent")
    async def show_forgot_sent(self, request: Request[Any, Any, Any]) -> Template:
        """Page: 'if an account matches, we have sent a link'."""
        return render(request, "account/forgot_sent.html")

    @get("/reset-password/{token:str}", name="reset_password")
    async def show_reset(self, request: Request[Any, Any, Any], token: FromPath[str]) -> Template:
        """Page: choose a new password (the link works once, for an hour)."""
        try:
            account = await accounts.account_for_link(tokens_of(request), "reset-password", token)
        except TokenError as exc:
            return link_problem(request, exc, "reset")
        return set_password_page(
            request, "account/reset.html", account, url(request, "set_new_password", token=token)
        )

    @post("/reset-password/{token:str}", name="set_new_password")
    async def reset_password(
        self, request: Request[Any, Any, Any], token: FromPath[str]
    ) -> Template | Redirect | ClientRedirect:
        """Set the new password, end every session of the account, then the log-in page."""
        try:
            account = await accounts.account_for_link(tokens_of(request), "reset-password", token)
        except TokenError as exc:
            return link_problem(request, exc, "reset")
        form = await read_form(request)
        password = accounts.check_new_password(form, account, settings_of(request).org_name)
        if password is None:
            action = url(request, "set_new_password", token=token)
            return set_password_page(request, "account/reset.html", account, action, form)
        await accounts.set_password(account, password)
        poke_worker(request.app)
        end_session(request)  # whoever opened the link is not logged in by it
        flash(request, "Your password has been changed. Log in with your new password.", category="success")
        return redirect(request, url(request, "login"))

    @get("/profile/password", name="change_password", guards=[requires_login])
    async def show_change_password(self, request: Request[Any, Any, Any]) -> Template:
        """Page: change password (needs the current one, and a code when two-step sign-in is on and the
        last step is not recent). htmx: the form alone."""
        return render(
            request,
            "profile/password.html",
            "partials/profile/_password_form.html",
            errors={},
            step_up=step_up(request, asks_password=True),
        )

    @post("/profile/password", name="save_password", guards=[requires_login])
    async def change_password(self, request: Request[Any, Any, Any]) -> Template | Redirect | ClientRedirect:
        """Change the password; every other session of the account ends; a notice is emailed."""
        account = request.user
        form = await read_form(request)
        status = 422
        try:
            await accounts.check_step_up(
                request.session, account, form, tokens_of(request), asks_password=True
            )
        except Refused as refusal:
            form.error(refusal.field, refusal.message)
            status = accounts.step_up_status(refusal)
        password = None
        if form.ok:
            password = await accounts.check_password_change(form, account, settings_of(request).org_name)
            if form.errors.get("current_password") == accounts.LOCKED:
                status = 429
        if password is None:
            return render(
                request,
                "profile/password.html",
                "partials/profile/_password_form.html",
                status_code=status,
                errors=form.errors,
                step_up=step_up(request, asks_password=True),
            )
        account.session_epoch = await accounts.set_password(account, password)
        poke_worker(request.app)
        start_session(request, account)  # this session lives on under a new id and the new epoch
        flash(request, "Your password has been changed. You have been logged out everywhere else.", "success")
        return redirect(request, url(request, "profile"))
