"""Download my data: a page that says what the copy holds and asks for the password, and the
download itself (a ZIP made while it is sent). Learners and third parties only."""

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
from src.routes.common import settings_of, today

PAGE = "profile/data.html"
FORM = "partials/profile/_data_form.html"


class DataDownloadController(Controller):
    path = "/profile/data"
    guards = [requires_learner_or_third_party]

    @get("/", name="download_data")
    async def show_download(self, request: Request[Any, Any, Any]) -> Template:
        """Page: what the copy holds, and the password to download it. htmx: the form alone."""
        return render(request, PAGE, FORM, errors={}, refusal=None, limit=exports.MAX_DOWNLOADS)

    @post("/", name="send_data", status_code=200)
    async def download(self, request: Request[Any, Any, Any]) -> Template | Stream:
        """The ZIP, once the password is right and today's limit allows; an email tells every address
        of the account. Otherwise the page again: 422 (password), 429 (paused, or the limit)."""
        person = request.user
        form = await read_form(request)
        if not await exports.check_download(form, person):
            status = 429 if form.errors.get("password") == accounts.LOCKED else 422
            return render(
                request,
                PAGE,
                FORM,
                status_code=status,
                errors=form.errors,
                refusal=None,
                limit=exports.MAX_DOWNLOADS,
            )
        try:
            await exports.record_download(person)
        except Refused as refusal:
            return render(
                request,
                PAGE,
                FORM,
                status_code=429,
                errors={},
                refusal=refusal.message,
                limit=exports.MAX_DOWNLOADS,
            )
        poke_worker(request.app)
        reader = exports.Reader(settings=settings_of(request), templates=request.app.template_engine)
        name = f"{person.username}-data-{today(request).isoformat()}.zip"
        return Stream(
            exports.data_archive(person, reader),
            media_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
        )
