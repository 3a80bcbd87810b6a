"""Signing in with a passkey from /login, with no user name and no password: the browser offers the
passkeys it holds for this site (discoverable credentials), and one that checked it is its owner
(user verification: a PIN, fingerprint or face) signs in as fully as a password and a second step."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, post
from litestar.response import Redirect, Template
from litestar_htmx import ClientRedirect

from src import accounts, throttle
from src.auth import start_session
from src.errors import Refused
from src.forms import read_form
from src.htmx import redirect, render
from src.routes.common import client_ip, passkey_options, relying_party, safe_next, url
from src.routes.session import IP_FAILURES_LIMIT, IP_WINDOW


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
                raise Refused(
                    "Too many failed log-ins from your network. Wait 15 minutes, then try again.", "passkey"
                )
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
