"""The second step of a log-in: a code from the authenticator app or a recovery code, or, for staff
without two-step sign-in, enrolment before anything else. Reached only after a right password
(src.auth.start_second_step); nothing else needs a log-in works until it succeeds."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromQuery
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar_htmx import ClientRedirect

from src import accounts, qr, throttle
from src.auth import (
    load_account,
    pending_second_step,
    second_step_epoch,
    second_step_next,
    second_step_offers,
    start_session,
)
from src.errors import Refused
from src.forms import read_form
from src.htmx import redirect, render, render_alike
from src.mail import poke_worker
from src.routes.common import client_ip, safe_next, settings_of, tokens_of, url
from src.routes.session import IP_FAILURES_LIMIT, IP_WINDOW
from src.security import cookie_name
from src.tables.accounts import Account

LAPSED = "It took more than 5 minutes, so you need to log in again."


async def pending_account(request: Request[Any, Any, Any]) -> Account | None:
    """The account whose second step is due here, unless it lapsed or its password changed since."""
    account_id = pending_second_step(request)
    if account_id is None:
        return None
    account = await load_account(account_id)
    if account is None or account.session_epoch != second_step_epoch(request):
        return None
    return account


def _back_to_login(request: Request[Any, Any, Any], lapsed: bool) -> Redirect | ClientRedirect:
    """No second step is due here: someone logged in goes on, a step that lapsed says so."""
    if request.user is not None:
        return redirect(request, url(request, "dashboard"))
    if lapsed:
        flash(request, LAPSED, category="warning")
    return redirect(request, url(request, "login"))


def _was_due(request: Request[Any, Any, Any]) -> bool:
    return bool(request.session) and "second_step_for" in request.session


async def enrol_page(
    request: Request[Any, Any, Any],
    account: Account,
    errors: dict[str, str] | None = None,
    status: int = 200,
    **passkey: Any,
) -> Template:
    """Set up an authenticator: its QR code, its key in groups of four, and a code to confirm it; or
    a passkey instead (`passkey_values`, `passkey_errors`: that form's, src/routes/passkey_sign_in.py)."""
    settings = settings_of(request)
    enrolment = await accounts.enrolment(tokens_of(request), account, settings.org_name)
    return render(
        request,
        "account/enrol.html",
        "partials/account/_enrol_form.html",
        status_code=status,
        qr_svg=qr.secret_svg(enrolment.address, "QR code to add this portal to your authenticator app"),
        grouped_key=enrolment.grouped_key,
        action=url(request, "enrol_at_login"),
        errors=errors or {},
        at_login=True,
        passkey_values=passkey.get("passkey_values", {}),
        passkey_errors=passkey.get("passkey_errors", {}),
        replacing=False,
    )


def second_step_page(
    request: Request[Any, Any, Any],
    offers: list[str],
    *,
    errors: dict[str, str] | None = None,
    recovery: bool = False,
    status: int = 200,
    passkey_error: str = "",
) -> Template:
    """The second step's page (htmx: the code form alone): the authenticator's code (or a recovery
    code) when the account has the app, and a passkey when it has one (staff may have only that):
    `offers`, from accounts.second_step_offers. Without errors: the same for everyone (render_alike)."""
    values = {"recovery": recovery, "authenticator": "code" in offers, "passkeys": "passkey" in offers}
    if not errors and not passkey_error and status == 200:
        page = "account/second_step.html"
        return render_alike(request, page, "partials/account/_second_step_form.html", errors={}, **values)
    return render(
        request,
        "account/second_step.html",
        "partials/account/_second_step_form.html",
        status_code=status,
        errors=errors or {},
        passkey_error=passkey_error,
        **values,
    )


class SecondStepController(Controller):
    path = "/login/second-step"

    @get("/", name="second_step")
    async def show_second_step(
        self, request: Request[Any, Any, Any], recovery: FromQuery[bool] = False
    ) -> Template | Redirect | ClientRedirect:
        """Page: the code field (or, with ?recovery=true, the recovery code field); for staff without
        two-step sign-in, enrolment. Without a right password first: back to the log-in page."""
        was_due = _was_due(request)
        offers = second_step_offers(request) if pending_second_step(request) is not None else []
        if offers:
            # What the password check recorded: showing the form reads no account (its answer does).
            return second_step_page(request, offers, recovery=recovery)
        account = await pending_account(request)
        if account is None:
            return _back_to_login(request, was_due)
        if accounts.must_enrol(account):
            return await enrol_page(request, account)
        return second_step_page(request, accounts.second_step_offers(account), recovery=recovery)

    @post("/", name="check_second_step")
    async def check_second_step(
        self, request: Request[Any, Any, Any]
    ) -> Template | Redirect | ClientRedirect:
        """Check the code: right, the person is logged in under a new session id, then where the log-in
        was going; wrong, the form again (422; 429 with Retry-After while paused)."""
        was_due = _was_due(request)
        account = await pending_account(request)
        if account is None:
            return _back_to_login(request, was_due)
        form = await read_form(request)
        recovery = bool(form.get("recovery_code")) or form.get("recovery") == "true"
        field = "recovery_code" if recovery else "code"
        store = request.app.stores.get("throttle")
        ip_key = f"login-failures:{client_ip(request)}"
        # Counted first, like a log-in from this address (the same count): forgiven when right.
        if await throttle.hit(store, ip_key, IP_WINDOW) > IP_FAILURES_LIMIT:
            return self._form(request, account, {field: accounts.LOCKED_CODE}, recovery, 429, IP_WINDOW)
        device_name = cookie_name(accounts.DEVICE_COOKIE, settings_of(request).https)
        device = accounts.known_device(tokens_of(request), store, request.cookies.get(device_name))
        result = await accounts.check_code(tokens_of(request), account, form.get(field), device)
        if not result.ok:
            status = 429 if result.retry_after else 422
            return self._form(request, account, {field: result.message}, recovery, status, result.retry_after)
        await throttle.forgive(store, ip_key)
        next_path = second_step_next(request)
        start_session(request, account)
        if result.recovery_left is not None:
            poke_worker(request.app)
            flash(request, accounts.recovery_left_message(result.recovery_left), category="warning")
        return redirect(request, safe_next(next_path, url(request, "dashboard")))

    @staticmethod
    def _form(
        request: Request[Any, Any, Any],
        account: Account,
        errors: dict[str, str],
        recovery: bool,
        status: int,
        retry_after: int,
    ) -> Template:
        offers = accounts.second_step_offers(account)
        response = second_step_page(request, offers, errors=errors, recovery=recovery, status=status)
        if retry_after:
            response.headers["Retry-After"] = str(retry_after)
        return response

    @post("/enrol", name="enrol_at_login", opt={"reload": "second_step"})
    async def enrol(self, request: Request[Any, Any, Any]) -> Template | Redirect | ClientRedirect:
        """Staff: confirm the new authenticator with a code; then logged in, and the recovery codes,
        shown this once."""
        was_due = _was_due(request)
        account = await pending_account(request)
        if account is None:
            return _back_to_login(request, was_due)
        if not accounts.must_enrol(account):
            return redirect(request, url(request, "second_step"))
        form = await read_form(request)
        try:
            codes = await accounts.turn_on(tokens_of(request), account, form.get("code"))
        except Refused as refusal:
            status = 429 if refusal.message == accounts.LOCKED_CODE else 422
            return await enrol_page(request, account, {"code": refusal.message}, status)
        next_path = second_step_next(request)
        start_session(request, account)
        poke_worker(request.app)
        return recovery_codes_page(request, codes, safe_next(next_path, url(request, "dashboard")))


def recovery_codes_page(request: Request[Any, Any, Any], codes: list[str], continue_to: str) -> Template:
    """The ten recovery codes, this once: to print or download as text; never shown again."""
    return Template(
        template_name="account/recovery_codes.html",
        context={"codes": codes, "continue_to": continue_to},
        status_code=200,
        headers={"Cache-Control": "no-store"},
    )
