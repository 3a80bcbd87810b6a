"""Download my data: a page that says what the copy holds, and the download itself (a ZIP made while
it is sent) behind a recent step-up. Learners and third parties only."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Stream, Template

from src import accounts, exports
from src.errors import Refused
from src.forms import read_form
from src.guards import requires_learner_or_third_party
from src.htmx import render
from src.mail import poke_worker
from src.routes.common import settings_of, step_up, today, tokens_of

PAGE = "profile/data.html"
FORM = "partials/profile/_data_form.html"


def _page(request: Request[Any, Any, Any], status: int = 200, **context: Any) -> Template:
    values: dict[str, Any] = {
        "errors": {},
        "refusal": None,
        "limit": exports.MAX_DOWNLOADS,
        "step_up": step_up(request),
    }
    return render(request, PAGE, FORM, status_code=status, **{**values, **context})


class DataDownloadController(Controller):
    path = "/profile/data"
    guards = [requires_learner_or_third_party]

    @get("/", name="download_data")
    async def show_download(self, request: Request[Any, Any, Any]) -> Template:
        """Page: what the copy holds, and the button (with the step-up prompt when the last step is
        not recent). htmx: the form alone."""
        return _page(request)

    @post("/", name="send_data", status_code=200)
    async def download(self, request: Request[Any, Any, Any]) -> Template | Stream:
        """The ZIP, once a recent step covers it and the day's limit allows; an email tells every
        address of the account. Otherwise the page again: 422 (the step is due), 429 (paused, or
        the limit reached)."""
        person = request.user
        form = await read_form(request)
        try:
            await accounts.check_step_up(request.session, person, form, tokens_of(request))
        except Refused as refusal:
            form.error(refusal.field, refusal.message)
            return _page(request, accounts.step_up_status(refusal), errors=form.errors)
        try:
            await exports.record_download(person)
        except Refused as refusal:
            return _page(request, 429, refusal=refusal.message)
        poke_worker(request.app)
        reader = exports.Reader(settings=settings_of(request), templates=request.app.template_engine)
        name = f"{person.username}-data-{today(request).isoformat()}.zip"
        return Stream(
            exports.data_archive(person, reader),
            media_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
        )
