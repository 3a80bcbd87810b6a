"""Signing in with a passkey. From /login, with no user name and no password: the browser offers the
passkeys it holds for this site (discoverable credentials), and one that checked it is its owner
(user verification: a PIN, fingerprint or face) signs in as fully as a password and a second step.
On the second-step page, after a right password: only the pending account's passkeys will do; and
staff without two-step sign-in may enrol a passkey there instead of the authenticator app."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, post
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar_htmx import ClientRedirect

from src import accounts, throttle
from src.auth import second_step_next, start_session
from src.errors import Refused
from src.forms import read_form
from src.htmx import redirect, render
from src.mail import poke_worker
from src.routes.common import client_ip, passkey_options, relying_party, safe_next, url
from src.routes.second_step import _back_to_login, _was_due, enrol_page, pending_account, second_step_page
from src.routes.session import IP_FAILURES_LIMIT, IP_WINDOW

TOO_MANY = "Too many failed log-ins from your network. Wait 15 minutes, then try again."


class PasskeySignInController(Controller):
    path = "/login/passkey"

    @post("/options", name="passkey_sign_in_options", opt={"reload": "login"})
    async def sign_in_options(self, request: Request[Any, Any, Any]) -> Response[str]:
        """JSON for navigator.credentials.get(), offering any passkey of this site."""
        options = await accounts.begin_passkey_sign_in(relying_party(request), request.session)
        return passkey_options(options)

    @post("/", name="sign_in_with_passkey", opt={"reload": "login"})
    async def sign_in(self, request: Request[Any, Any, Any]) -> Template | Redirect | ClientRedirect:
        """Sign in with the passkey the browser chose; a new session id, then `next` or the dashboard.
        Refused: the log-in page again (422) saying why beside the passkey button."""
        form = await read_form(request)
        next_path = safe_next(form.get("next"), "")
        store = request.app.stores.get("throttle")
        # Counted first like a password log-in, and forgiven when it succeeds: a script replaying
        # made-up answers meets the same per-address limit as one guessing passwords.
        ip_key = f"login-failures:{client_ip(request)}"
        try:
            if not form.get("credential"):
                raise Refused(accounts.PASSKEY_NEEDS_SCRIPT, "passkey")
            if await throttle.hit(store, ip_key, IP_WINDOW) > IP_FAILURES_LIMIT:
                raise Refused(TOO_MANY, "passkey")
            ceremony = await accounts.take_passkey_challenge(request.session, store, accounts.PASSKEY_SIGN_IN)
            account = await accounts.check_passkey(
                relying_party(request), ceremony, form.get("credential"), require_user_verification=True
            )
        except Refused as refusal:
            return render(
                request,
                "account/login.html",
                status_code=422,
                values={},
                errors={},
                passkey_error=refusal.message,
                next=next_path,
                ended=False,
            )
        await throttle.forgive(store, ip_key)
        start_session(request, account)
        return redirect(request, next_path or url(request, "dashboard"))

    @post("/second-step/options", name="passkey_second_step_options", opt={"reload": "second_step"})
    async def second_step_options(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """JSON for navigator.credentials.get(), offering the pending account's passkeys only."""
        account = await pending_account(request)
        if account is None:
            return Response(content={"message": "log in again"}, status_code=422)
        options = await accounts.begin_passkey_sign_in(
            relying_party(request), request.session, accounts.PASSKEY_SECOND_STEP, account.id
        )
        return passkey_options(options)

    @post("/second-step", name="second_step_with_passkey", opt={"reload": "second_step"})
    async def second_step(self, request: Request[Any, Any, Any]) -> Template | Redirect | ClientRedirect:
        """The second step with a passkey of the account whose password was right: logged in under a
        new session id, then where the log-in was going. Refused: the second-step page (422)."""
        was_due = _was_due(request)
        account = await pending_account(request)
        if account is None:
            return _back_to_login(request, was_due)  # as the second-step page answers
        form = await read_form(request)
        store = request.app.stores.get("throttle")
        ip_key = f"login-failures:{client_ip(request)}"
        try:
            if not form.get("credential"):
                raise Refused(accounts.PASSKEY_NEEDS_SCRIPT, "passkey")
            if await throttle.hit(store, ip_key, IP_WINDOW) > IP_FAILURES_LIMIT:
                raise Refused(TOO_MANY, "passkey")
            ceremony = await accounts.take_passkey_challenge(
                request.session, store, accounts.PASSKEY_SECOND_STEP, account.id
            )
            # The password came first: a passkey that did not verify its user is still a second factor.
            await accounts.check_passkey(
                relying_party(request),
                ceremony,
                form.get("credential"),
                account_id=account.id,
                require_user_verification=False,
            )
        except Refused as refusal:
            return second_step_page(
                request, accounts.second_step_offers(account), status=422, passkey_error=refusal.message
            )
        await throttle.forgive(store, ip_key)
        next_path = second_step_next(request)
        start_session(request, account)
        return redirect(request, safe_next(next_path, url(request, "dashboard")))

    @post("/enrol/options", name="passkey_enrol_options", opt={"reload": "second_step"})
    async def enrol_options(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Staff enrolling at log-in: JSON for navigator.credentials.create() once the name holds."""
        account = await pending_account(request)
        form = await read_form(request)
        if account is None or not accounts.must_enrol(account) or accounts.check_passkey_name(form) is None:
            return Response(content={"message": "refused"}, status_code=422)
        options = await accounts.begin_adding_passkey(relying_party(request), account, request.session)
        return passkey_options(options)

    @post("/enrol", name="enrol_passkey_at_login", opt={"reload": "second_step"})
    async def enrol(self, request: Request[Any, Any, Any]) -> Template | Redirect | ClientRedirect:
        """Staff without two-step sign-in: a passkey as their second step, from now on; then logged in
        under a new session id. Refused: the enrolment page again (422), the name kept."""
        was_due = _was_due(request)
        account = await pending_account(request)
        if account is None:
            return _back_to_login(request, was_due)  # as the second-step page answers
        if not accounts.must_enrol(account):
            return redirect(request, url(request, "second_step"))
        form = await read_form(request)
        name = accounts.check_passkey_name(form)
        try:
            if name is None:
                raise Refused(form.errors["name"], "name")
            if not form.get("credential"):
                raise Refused(accounts.PASSKEY_NEEDS_SCRIPT, "passkey")
            store = request.app.stores.get("throttle")
            ceremony = await accounts.take_passkey_challenge(
                request.session, store, accounts.PASSKEY_ADD, account.id
            )
            await accounts.add_passkey(
                relying_party(request), account, ceremony, form.get("credential"), name
            )
        except Refused as refusal:
            return await enrol_page(
                request,
                account,
                status=422,
                passkey_values=form.kept(),
                passkey_errors={refusal.field or "passkey": refusal.message},
            )
        next_path = second_step_next(request)
        start_session(request, account)
        poke_worker(request.app)
        flash(
            request,
            f"Passkey \u201c{name}\u201d added: it is your second step from now on.",
            category="success",
        )
        return redirect(request, safe_next(next_path, url(request, "dashboard")))
