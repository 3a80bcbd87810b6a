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
from src.forms import read_form
from src.guards import requires_login
from src.htmx import redirect, render
from src.mail import poke_worker
from src.passwords import password_problem
from src.routes.account import email_budget, limit_email_forms
from src.routes.common import settings_of, tokens_of
from src.routes.profile import LOCKED
from src.tokens import TokenError


class PasswordController(Controller):
    @get("/forgot-password", name="forgot_password")
    async def show_forgot(self, request: Request[Any, Any, Any]) -> Template:
        """Page: ask for a reset link. htmx: the form alone."""
        return render(
            request, "account/forgot.html", "partials/account/_forgot_form.html", values={}, errors={}
        )

    @post("/forgot-password")
    async def forgot_password(self, request: Request[Any, Any, Any]) -> Template | Redirect | ClientRedirect:
        """Email a reset link if the account exists; the answer is the same either way."""
        form = await read_form(request)
        identifier = form.required("login", "Enter your user name or email address", 254)
        if not form.ok:
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
        return redirect(request, "/forgot-password/sent")

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
            return render(
                request, "account/link_problem.html", status_code=400, reason=exc.reason, purpose="reset"
            )
        return render(
            request,
            "account/reset.html",
            "partials/account/_set_password_form.html",
            account=account,
            action=f"/reset-password/{token}",
            errors={},
        )

    @post("/reset-password/{token:str}")
    async def reset_password(
        self, request: Request[Any, Any, Any], token: FromPath[str]
    ) -> Template | Redirect | ClientRedirect:
        """Set the new password, end every session of the account, then the log-in page."""
        try:
            account = await accounts.account_for_link(tokens_of(request), "reset-password", token)
        except TokenError as exc:
            return render(
                request, "account/link_problem.html", status_code=400, reason=exc.reason, purpose="reset"
            )
        form = await read_form(request)
        problem = password_problem(
            form.get("password"),
            username=account.username,
            email=account.email,
            org_name=settings_of(request).org_name,
        )
        if problem:
            form.error("password", problem)
            return render(
                request,
                "account/reset.html",
                "partials/account/_set_password_form.html",
                status_code=422,
                account=account,
                action=f"/reset-password/{token}",
                errors=form.errors,
            )
        await accounts.set_password(account, form.get("password"))
        poke_worker(request.app)
        end_session(request)  # whoever opened the link is not logged in by it
        flash(request, "Your password has been changed. Log in with your new password.", category="success")
        return redirect(request, "/login")

    @get("/profile/password", name="change_password", guards=[requires_login])
    async def show_change_password(self, request: Request[Any, Any, Any]) -> Template:
        """Page: change password (needs the current one). htmx: the form alone."""
        return render(request, "profile/password.html", "partials/profile/_password_form.html", errors={})

    @post("/profile/password", guards=[requires_login])
    async def change_password(self, request: Request[Any, Any, Any]) -> Template | Redirect | ClientRedirect:
        """Change the password; every other session of the account ends; a notice is emailed."""
        account = request.user
        form = await read_form(request)
        if not form.get("current_password"):
            form.error("current_password", "Enter your current password")
        else:
            # Counted like a failed log-in: a stolen session cannot guess the password here.
            check = await accounts.check_current_password(account, form.get("current_password"))
            if check.problem:
                form.error(
                    "current_password", LOCKED if check.locked else "Your current password is not right"
                )
        problem = password_problem(
            form.get("password"),
            username=account.username,
            email=account.email,
            org_name=settings_of(request).org_name,
        )
        if problem:
            form.error("password", problem)
        if not form.ok:
            return render(
                request,
                "profile/password.html",
                "partials/profile/_password_form.html",
                status_code=429 if form.errors.get("current_password") == LOCKED else 422,
                errors=form.errors,
            )
        account.session_epoch = await accounts.set_password(account, form.get("password"))
        poke_worker(request.app)
        start_session(request, account)  # this session lives on under a new id and the new epoch
        flash(request, "Your password has been changed. You have been logged out everywhere else.", "success")
        return redirect(request, "/profile")
