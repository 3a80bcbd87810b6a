"""Profile → Passkeys: the account's passkeys (named, when added and last used), adding one (the
browser's WebAuthn ceremony, driven by static/js/passkeys.js), and removing one."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar_htmx import ClientRedirect

from src import accounts
from src.errors import Refused
from src.forms import read_form
from src.guards import requires_login
from src.htmx import redirect, render, wants_fragment
from src.mail import poke_worker
from src.routes.common import passkey_options, relying_party, url


def refusal_answer(refusal: Refused) -> Response[dict[str, str]]:
    """The script posts its form as it is on any refusal, so the page says why in its usual place."""
    return Response(
        content={"message": refusal.message}, status_code=422, headers={"Cache-Control": "no-store"}
    )


async def _page(request: Request[Any, Any, Any], status: int = 200, **overrides: Any) -> Template:
    context: dict[str, Any] = {
        "passkeys": await accounts.passkeys_of(request.user),
        "values": {},
        "errors": {},
        "max_passkeys": accounts.MAX_PASSKEYS,
    }
    context.update(overrides)
    return render(request, "profile/passkeys.html", status_code=status, **context)


class PasskeyController(Controller):
    path = "/profile/passkeys"
    guards = [requires_login]

    @get("/", name="passkeys")
    async def show_passkeys(self, request: Request[Any, Any, Any]) -> Template:
        """Page: the account's passkeys and the form to add one (which needs JavaScript)."""
        return await _page(request)

    @post("/options", name="passkey_add_options", opt={"reload": "passkeys"})
    async def add_options(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """JSON for navigator.credentials.create(); 422 when the name or the limit refuses it."""
        form = await read_form(request)
        if accounts.check_passkey_name(form) is None:
            return refusal_answer(Refused(form.errors["name"], "name"))
        try:
            options = await accounts.begin_adding_passkey(
                relying_party(request), request.user, request.session
            )
        except Refused as refusal:
            return refusal_answer(refusal)
        return passkey_options(options)

    @post("/", name="add_passkey")
    async def add_passkey(self, request: Request[Any, Any, Any]) -> Template | Redirect | ClientRedirect:
        """Keep the passkey the browser made, under its name; then the list. Errors: 422, name kept."""
        form = await read_form(request)
        name = accounts.check_passkey_name(form)
        if name is None:
            request.session.pop(accounts.PASSKEY_CEREMONY, None)
            return await _page(request, 422, values=form.kept(), errors=form.errors)
        store = request.app.stores.get("throttle")
        try:
            if not form.get("credential"):
                raise Refused(accounts.PASSKEY_NEEDS_SCRIPT, "passkey")
            ceremony = await accounts.take_passkey_challenge(
                request.session, store, accounts.PASSKEY_ADD, request.user.id
            )
            await accounts.add_passkey(
                relying_party(request),
                request.user,
                ceremony,
                form.get("credential"),
                name,
            )
        except Refused as refusal:
            return await _page(
                request, 422, values=form.kept(), errors={refusal.field or "passkey": refusal.message}
            )
        poke_worker(request.app)
        flash(request, f"Passkey \u201c{name}\u201d added. You can now sign in with it.", category="success")
        return redirect(request, url(request, "passkeys"))

    @post("/{passkey_id:int}/delete", name="remove_passkey", opt={"reload": "passkeys"})
    async def remove_passkey(
        self, request: Request[Any, Any, Any], passkey_id: FromPath[int]
    ) -> Template | Redirect:
        """Remove one of your passkeys (someone else's answers 404). htmx: the list of passkeys."""
        name = await accounts.remove_passkey(request.user, passkey_id)
        if name is None:
            raise NotFoundException()
        message = f"Passkey \u201c{name}\u201d removed. It can no longer sign in to your account."
        if wants_fragment(request):
            return render(
                request,
                "partials/profile/_passkey_list.html",
                passkeys=await accounts.passkeys_of(request.user),
                removed=message,
            )
        flash(request, message, category="success")
        return Redirect(path=url(request, "passkeys"), status_code=303)
