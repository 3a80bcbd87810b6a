"""Profile, two-step sign-in: turn it on (an authenticator app), make a new set of recovery codes,
turn it off (not staff), and the dashboard's one suggestion to turn it on. Every change here needs a
recent step (step-up) and emails a notice."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar_htmx import ClientRedirect

from src import accounts, qr
from src.errors import Refused
from src.forms import read_form
from src.guards import requires_login
from src.htmx import redirect, render, wants_fragment
from src.mail import poke_worker
from src.routes.common import settings_of, step_up, tokens_of, url
from src.routes.second_step import recovery_codes_page


async def _two_step_page(
    request: Request[Any, Any, Any], form_errors: dict[str, dict[str, str]] | None = None
) -> Template:
    account = request.user
    left = await accounts.recovery_codes_left(account) if accounts.has_two_step(account) else 0
    return render(
        request,
        "profile/two_step.html",
        status_code=422 if form_errors else 200,
        account=account,
        on=accounts.has_two_step(account),
        staff=account.role == "staff",
        left=left,
        few=left <= accounts.FEW_LEFT,
        step_up=step_up(request),
        form_errors=form_errors or {},
    )


async def _setup_page(
    request: Request[Any, Any, Any], errors: dict[str, str] | None = None, status: int = 200
) -> Template:
    enrolment = await accounts.enrolment(tokens_of(request), request.user, settings_of(request).org_name)
    return render(
        request,
        "account/enrol.html",
        "partials/account/_enrol_form.html",
        status_code=status,
        qr_svg=qr.secret_svg(enrolment.address, "QR code to add this portal to your authenticator app"),
        grouped_key=enrolment.grouped_key,
        action=url(request, "turn_on_two_step"),
        errors=errors or {},
        step_up=step_up(request),
        at_login=False,
    )


class TwoStepController(Controller):
    path = "/profile/two-step"
    guards = [requires_login]

    @get("/", name="two_step")
    async def show_two_step(self, request: Request[Any, Any, Any]) -> Template:
        """Page: whether two-step sign-in is on, recovery codes left, and what can be changed."""
        return await _two_step_page(request)

    @get("/setup", name="set_up_two_step")
    async def show_setup(self, request: Request[Any, Any, Any]) -> Template | Redirect | ClientRedirect:
        """Page: the new authenticator's QR code and key, and the code that turns it on."""
        if accounts.has_two_step(request.user):
            return redirect(request, url(request, "two_step"))
        return await _setup_page(request)

    @post("/setup", name="turn_on_two_step")
    async def turn_on(self, request: Request[Any, Any, Any]) -> Template | Redirect | ClientRedirect:
        """Turn two-step sign-in on with a current code (after a recent step); then the recovery codes,
        shown this once. Refused: the page again with the reason beside its field."""
        if accounts.has_two_step(request.user):
            return redirect(request, url(request, "two_step"))
        form = await read_form(request)
        try:
            await accounts.check_step_up(request.session, request.user, form, tokens_of(request))
            codes = await accounts.turn_on(tokens_of(request), request.user, form.get("code"))
        except Refused as refusal:
            return await _setup_page(
                request, {refusal.field: refusal.message}, accounts.step_up_status(refusal)
            )
        poke_worker(request.app)
        flash(request, "Two-step sign-in is on. We have emailed you to say so.", category="success")
        return recovery_codes_page(request, codes, url(request, "two_step"))

    @post("/recovery-codes", name="regenerate_recovery_codes", opt={"reload": "two_step"})
    async def regenerate(self, request: Request[Any, Any, Any]) -> Template | Redirect | ClientRedirect:
        """A new set of ten recovery codes (the old set stops working), shown this once."""
        form = await read_form(request)
        try:
            await accounts.check_step_up(request.session, request.user, form, tokens_of(request))
            codes = await accounts.regenerate_recovery_codes(request.user)
        except Refused as refusal:
            return await self._refused(request, refusal, "codes")
        poke_worker(request.app)
        return recovery_codes_page(request, codes, url(request, "two_step"))

    @post("/off", name="turn_off_two_step", opt={"reload": "two_step"})
    async def turn_off(self, request: Request[Any, Any, Any]) -> Template | Redirect | ClientRedirect:
        """Turn two-step sign-in off (not for staff), after a recent step; a notice is emailed."""
        form = await read_form(request)
        try:
            await accounts.check_step_up(request.session, request.user, form, tokens_of(request))
            await accounts.turn_off(request.user)
        except Refused as refusal:
            return await self._refused(request, refusal, "off")
        poke_worker(request.app)
        flash(request, "Two-step sign-in is off. We have emailed you to say so.", category="success")
        return redirect(request, url(request, "two_step"))

    @staticmethod
    async def _refused(request: Request[Any, Any, Any], refusal: Refused, which: str) -> Template:
        page = await _two_step_page(request, {which: {refusal.field or "two_step": refusal.message}})
        page.status_code = accounts.step_up_status(refusal)
        return page

    @post("/recovery-codes.txt", name="download_recovery_codes", opt={"reload": "two_step"})
    async def download(self, request: Request[Any, Any, Any]) -> Response[str]:
        """The recovery codes on the page the person is looking at, back as a text file (nothing is
        stored to make it: the page sends them; only well-formed codes are written)."""
        form = await read_form(request)
        codes = [
            c for c in (accounts.normalise_recovery_code(v) for v in form.lists.get("codes", [])[:10]) if c
        ]
        org = settings_of(request).org_name
        text = (
            f"Recovery codes for {request.user.username} at {org}\n"
            "Each signs you in once when you cannot use your authenticator app.\n\n"
            + "".join(f"{code}\n" for code in codes)
        )
        return Response(
            content=text,
            status_code=200,
            media_type="text/plain; charset=utf-8",
            headers={
                "Content-Disposition": 'attachment; filename="recovery-codes.txt"',
                "Cache-Control": "no-store",
            },
        )

    @post("/dismiss-suggestion", name="dismiss_two_step_hint", opt={"reload": "dashboard"})
    async def dismiss_hint(
        self, request: Request[Any, Any, Any]
    ) -> Response[str] | Redirect | ClientRedirect:
        """The dashboard's suggestion to turn two-step sign-in on goes away for good. htmx: nothing
        (the suggestion is removed in place); a plain form: back to the dashboard."""
        await accounts.dismiss_two_step_hint(request.user)
        if wants_fragment(request):
            return Response(content="", status_code=200, media_type="text/html")
        return redirect(request, url(request, "dashboard"))
