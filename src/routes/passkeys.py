"""Profile → Passkeys: the account's passkeys (named, when added and last used), adding one (the
browser's WebAuthn ceremony, driven by static/js/passkeys.js), removing one, and a passkey as the
answer to a step-up prompt on any form that asks for one.

Adding and removing a passkey are changes to how one signs in: both need a recent second step
(README, Conventions: Step-up). Adding checks it before the browser is asked to make a passkey (the
options request carries the form, step-up code and all), so a wrong code never leaves the person
with a passkey on their device that the site refused."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar_htmx import ClientRedirect

from src import accounts, clock
from src.auth import STEPPED_UP_AT
from src.errors import Refused
from src.forms import Form, read_form
from src.guards import requires_login
from src.htmx import redirect, render, wants_fragment
from src.mail import poke_worker
from src.routes.common import passkey_options, relying_party, step_up, tokens_of, url

# Why the options were refused, kept for the form the script then posts without a passkey: the step-up
# code was checked (and counted) once, and the page must say why without checking it again.
REFUSED_KEY = "passkey_refused"


def _refusal_answer(refusal: Refused) -> Response[dict[str, str]]:
    return Response(
        content={"message": refusal.message}, status_code=422, headers={"Cache-Control": "no-store"}
    )


async def _page(request: Request[Any, Any, Any], status: int = 200, **overrides: Any) -> Template:
    context: dict[str, Any] = {
        "passkeys": await accounts.passkeys_of(request.user),
        "values": {},
        "errors": {},
        "step_up": step_up(request),
        "confirm": None,  # the passkey whose removal waits for a step-up
        "remove_errors": {},
        "removed": None,
    }
    context.update(overrides)
    return render(request, "profile/passkeys.html", status_code=status, **context)


async def _step_up(request: Request[Any, Any, Any], form: Form) -> int | None:
    """Check the form's step-up; None when it holds, else the status to answer (errors on the form)."""
    try:
        await accounts.check_step_up(request.session, request.user, form, tokens_of(request))
    except Refused as refusal:
        form.error(refusal.field, refusal.message)
        return accounts.step_up_status(refusal)
    return None


class PasskeyController(Controller):
    path = "/profile/passkeys"
    guards = [requires_login]

    @get("/", name="passkeys")
    async def show_passkeys(self, request: Request[Any, Any, Any]) -> Template:
        """Page: the account's passkeys and the form to add one (which needs JavaScript)."""
        return await _page(request)

    @post("/options", name="passkey_add_options", opt={"reload": "passkeys"})
    async def add_options(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """JSON for navigator.credentials.create(), once the name and the step-up hold; 422 otherwise
        (the script then posts the form, and the page says why)."""
        form = await read_form(request)
        request.session.pop(REFUSED_KEY, None)
        name = accounts.check_passkey_name(form)
        if name is not None and await _step_up(request, form) is None:
            try:
                options = await accounts.begin_adding_passkey(
                    relying_party(request), request.user, request.session
                )
            except Refused as refusal:
                form.error(refusal.field, refusal.message)
            else:
                return passkey_options(options)
        # A bad name is found again when the form is posted; a step-up or the limit is said from here.
        request.session[REFUSED_KEY] = {} if name is None else dict(form.errors)
        return _refusal_answer(Refused(next(iter(form.errors.values()))))

    @post("/", name="add_passkey")
    async def add_passkey(self, request: Request[Any, Any, Any]) -> Template | Redirect | ClientRedirect:
        """Keep the passkey the browser made, under its name; then the list. Errors: 422, name kept."""
        form = await read_form(request)
        refused = request.session.pop(REFUSED_KEY, None)
        name = accounts.check_passkey_name(form)
        if not form.get("credential"):
            # Posted by the script after refused options (or without the script at all).
            request.session.pop(accounts.PASSKEY_CEREMONY, None)
            said = refused if isinstance(refused, dict) else {"passkey": accounts.PASSKEY_NEEDS_SCRIPT}
            for field, message in said.items():
                form.error(field, message)
        status = 422 if name is None or not form.ok else await _step_up(request, form)
        if name is None or status is not None:
            return await _page(
                request, status or 422, values=form.kept(*accounts.STEP_UP_FIELDS), errors=form.errors
            )
        store = request.app.stores.get("throttle")
        try:
            ceremony = await accounts.take_passkey_challenge(
                request.session, store, accounts.PASSKEY_ADD, request.user.id
            )
            await accounts.add_passkey(
                relying_party(request), request.user, ceremony, form.get("credential"), name
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
        """Remove one of your passkeys (someone else's answers 404), after a recent second step (the
        prompt appears in that passkey's row). htmx: the list of passkeys."""
        if not any(p.id == passkey_id for p in await accounts.passkeys_of(request.user)):
            raise NotFoundException()
        form = await read_form(request)
        status = await _step_up(request, form)
        name = None
        if status is None:
            try:
                name = await accounts.remove_passkey(request.user, passkey_id)
            except Refused as refusal:
                form.error("passkey", refusal.message)
                status = 409
            else:
                if name is None:  # removed meanwhile, by another request of the same person
                    raise NotFoundException()
        if name is None:
            return await self._list(request, status or 422, confirm=passkey_id, remove_errors=form.errors)
        message = f"Passkey \u201c{name}\u201d removed. It can no longer sign in to your account."
        if wants_fragment(request):
            return await self._list(request, 200, removed=message)
        flash(request, message, category="success")
        return Redirect(path=url(request, "passkeys"), status_code=303)

    @staticmethod
    async def _list(request: Request[Any, Any, Any], status: int, **context: Any) -> Template:
        if not wants_fragment(request):
            return await _page(request, status, **context)
        return render(
            request,
            "partials/profile/_passkey_list.html",
            status_code=status,
            passkeys=await accounts.passkeys_of(request.user),
            step_up=step_up(request),
            **{"confirm": None, "remove_errors": {}, "removed": None, **context},
        )

    # --- a passkey as the answer to a step-up prompt, on any form that shows one ---------------------

    @post("/step-up/options", name="passkey_step_up_options")
    async def step_up_options(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """JSON for navigator.credentials.get(), offering the account's own passkeys."""
        if request.user.passkey_count == 0:
            return _refusal_answer(
                Refused("You have no passkey here. Use the other way to confirm it is you.")
            )
        options = await accounts.begin_passkey_sign_in(
            relying_party(request), request.session, accounts.PASSKEY_STEP_UP, request.user.id
        )
        return passkey_options(options)

    @post("/step-up", name="step_up_with_passkey")
    async def step_up_with_passkey(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """A passkey of the account answers a step-up: the session counts as stepped up now (JSON, for
        the script, which then posts the form that asked). Refused: 422 with the reason."""
        form = await read_form(request)
        store = request.app.stores.get("throttle")
        try:
            ceremony = await accounts.take_passkey_challenge(
                request.session, store, accounts.PASSKEY_STEP_UP, request.user.id
            )
            await accounts.check_passkey(
                relying_party(request),
                ceremony,
                form.get("credential"),
                account_id=request.user.id,
                require_user_verification=False,
            )
        except Refused as refusal:
            return _refusal_answer(refusal)
        request.session[STEPPED_UP_AT] = clock.seconds()
        return Response(content={"ok": True}, status_code=200, headers={"Cache-Control": "no-store"})
