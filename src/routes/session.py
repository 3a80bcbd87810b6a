"""Logging in and out."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromQuery
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar_htmx import ClientRedirect

from src import accounts, throttle
from src.auth import end_session, start_second_step, start_session
from src.forms import read_form
from src.htmx import redirect, render, render_alike
from src.passwords import HashingBusy
from src.routes.common import client_ip, safe_next, settings_of, tokens_of, url
from src.security import cookie_name

IP_FAILURES_LIMIT = 20  # failed log-ins per IP per 15 minutes, across all accounts
IP_WINDOW = 15 * 60
WRONG = "The user name, email address or password is not right"
LOGGED_OUT = "You have logged out."
# Not "cookies": the session they carried is deleted on the server, and the device cookie must stay,
# so that the owner's browser is still a known device at its next log-in (a flood of strangers'
# guesses locks the account, not the devices that signed in to it before).
CLEAR_SITE_DATA = '"cache", "storage"'


class SessionController(Controller):
    @get("/login", name="login")
    async def show_login(
        self,
        request: Request[Any, Any, Any],
        next: FromQuery[str | None] = None,
        logged_out: FromQuery[bool] = False,
    ) -> Template | Redirect:
        """Page: the log-in form (and why a session ended, if it did). htmx: the form alone."""
        if request.user is not None:
            return Redirect(path=safe_next(next), status_code=303)
        # A browser that cleared its cookies at log-out lost the flash they carried: say it from here.
        kept = request.session.get("_messages", []) if request.session else []
        if logged_out and not any(m.get("message") == LOGGED_OUT for m in kept):
            flash(request, LOGGED_OUT, category="success")
        ended = request.session.pop("ended", False) if request.session else False
        return render_alike(
            request,
            "account/login.html",
            "partials/account/_login_form.html",
            values={},
            errors={},
            next=safe_next(next, ""),
            ended=ended,
        )

    @post("/login", name="log_in")
    async def log_in(self, request: Request[Any, Any, Any]) -> Template | Redirect | ClientRedirect:
        """Log in with user name or email and password; a new session id, then `next` or the dashboard."""
        form = await read_form(request)
        next_path = safe_next(form.get("next"), "")
        identifier = form.required("login", "Enter your user name or email address", 254)
        if not form.get("password"):
            form.error("password", "Enter your password")
        if not form.ok:
            return self._form(request, form, next_path, 422)
        # Counted first, then compared: a burst of parallel guesses cannot all pass the check.
        # A log-in that turns out right is forgiven below.
        store = request.app.stores.get("throttle")
        ip_key = f"login-failures:{client_ip(request)}"
        if await throttle.hit(store, ip_key, IP_WINDOW) > IP_FAILURES_LIMIT:
            form.error("login", "Too many failed log-ins from your network. Wait 15 minutes, then try again.")
            return self._form(request, form, next_path, 429)
        device_name = cookie_name(accounts.DEVICE_COOKIE, settings_of(request).https)
        device = accounts.known_device(tokens_of(request), store, request.cookies.get(device_name))
        try:
            result = await accounts.check_login(identifier, form.get("password"), device)
        except HashingBusy:
            # Refused for capacity, not a failed log-in: the address gets its count back.
            await throttle.forgive(store, ip_key)
            raise
        if result.problem == "unverified":
            await throttle.forgive(store, ip_key)
            form.error(
                "login",
                "You need to verify your email address before you can log in. "
                "Use the link we emailed you, or ask for a new one.",
            )
            return self._form(request, form, next_path, 422, unverified=True)
        if result.account is None:
            # A locked account answers exactly like an unknown one or a wrong password: nothing
            # here may tell a stranger that an account exists. The hint is the same for everyone.
            form.error("login", WRONG)
            return self._form(request, form, next_path, 422, maybe_locked=True)
        await throttle.forgive(store, ip_key)
        if accounts.second_step_due(result.account):
            # Not logged in yet: the code (or, for staff without two-step sign-in, enrolment) first.
            start_second_step(request, result.account, next_path, accounts.second_step_offers(result.account))
            response = redirect(request, url(request, "second_step"))
        else:
            start_session(request, result.account)
            response = redirect(request, next_path or url(request, "dashboard"))
        # This browser is now a known device of the account: judged by its own failures from now on.
        response.set_cookie(
            device_name,
            accounts.device_cookie(tokens_of(request), result.account.id),
            max_age=accounts.DEVICE_MAX_AGE,
            path="/",
            secure=settings_of(request).https,
            httponly=True,
            samesite="lax",
        )
        return response

    @staticmethod
    def _form(
        request: Request[Any, Any, Any], form: Any, next_path: str, status: int, **extra: Any
    ) -> Template:
        return render(
            request,
            "account/login.html",
            "partials/account/_login_form.html",
            status_code=status,
            values=form.kept("password"),
            errors=form.errors,
            next=next_path,
            ended=False,
            **extra,
        )

    @post("/logout", name="logout", opt={"reload": "dashboard"})
    async def log_out(self, request: Request[Any, Any, Any]) -> Redirect | ClientRedirect:
        """End the session, then the log-in page."""
        end_session(request)
        flash(request, LOGGED_OUT, category="success")
        response = redirect(request, url(request, "login") + "?logged_out=true")
        # A shared computer keeps no page of the account: its cache and storage are cleared.
        response.headers["Clear-Site-Data"] = CLEAR_SITE_DATA
        return response
