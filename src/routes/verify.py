"""The public verify page (`/v/CODE`, what a QR code opens) and the typed check (`/verify`).

Public and GET only: no session is read, no cookie set (neither the session nor the CSRF
middleware runs here), no JavaScript, `no-store` (a revocation shows on the very next scan).
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, MediaType, Request, get
from litestar.background_tasks import BackgroundTask
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from src import documents
from src.clock import utcnow
from src.routes.common import client_ip, settings_of

# Route options read by the session, account and CSRF middleware: skip this route entirely.
PUBLIC = {"skip_session": True, "exclude_from_csrf": True}
VERIFY_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}
MAX_TYPED = documents.MAX_TYPED


async def check(request: Request[Any, Any, Any], typed: str) -> documents.Verdict:
    """Check one code for this request's client: the verify page and the API ask the same thing."""
    settings = settings_of(request)
    return await documents.verify(
        typed,
        store=request.app.stores.get("throttle"),
        client=client_ip(request),
        now=utcnow(),
        tz=settings.tz,
        awarding_body=settings.org_name,
    )


def headers_for(verdict: documents.Verdict) -> dict[str, str]:
    headers = dict(VERIFY_HEADERS)
    if verdict.retry_after:
        headers["Retry-After"] = str(verdict.retry_after)
    return headers


class VerifyController(Controller):
    include_in_schema = False

    @get("/v/{code:str}", name="verify_page", opt=PUBLIC)
    async def show_verdict(self, request: Request[Any, Any, Any], code: FromPath[str]) -> Template | Redirect:
        """Page: the document's live status and key facts (and the document, if its learner allows)."""
        canonical = documents.normalise(code)
        if canonical != code and documents.is_well_formed(canonical):
            return Redirect(path=f"/v/{canonical}", status_code=301, headers=VERIFY_HEADERS)
        verdict = await check(request, code)
        settings = settings_of(request)
        return Template(
            template_name="verify/page.html",
            context={
                "verdict": verdict,
                "typed": code[:MAX_TYPED],
                "printed": documents.printed(verdict.code) if verdict.found else "",
                "verify_host": documents.verify_host(settings.verify_base),
            },
            status_code=verdict.http_status,
            headers=headers_for(verdict),
            media_type=MediaType.HTML,
            # Counted for the learner's Activity after the answer has gone: the page never waits.
            background=BackgroundTask(documents.record_checks, [verdict.document_id], utcnow())
            if verdict.document_id
            else None,
        )

    @get("/verify", name="verify_form", opt=PUBLIC)
    async def show_form(
        self, request: Request[Any, Any, Any], code: FromQuery[str | None] = None
    ) -> Template | Redirect:
        """Page: type the code printed under a QR code; a well-formed code goes to its verify page."""
        error = None
        if code is not None:
            canonical = documents.normalise(code)
            if documents.is_well_formed(canonical):
                return Redirect(path=f"/v/{canonical}", status_code=303, headers=VERIFY_HEADERS)
            error = "Enter the code as printed" if not canonical else "This code has a typing error"
        return Template(
            template_name="verify/form.html",
            context={"typed": (code or "")[:MAX_TYPED], "error": error},
            status_code=400 if error else 200,
            headers=VERIFY_HEADERS,
            media_type=MediaType.HTML,
        )
