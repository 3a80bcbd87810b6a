"""The public verify page (`/v/CODE`, what a QR code opens) and the typed check (`/verify`).

Public and GET only: no session is read, no cookie set (neither the session nor the CSRF
middleware runs here), no JavaScript, `no-store` (a revocation shows on the very next scan).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Controller, MediaType, Request, Response, get
from litestar.background_tasks import BackgroundTask
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from src import documents
from src.clock import utcnow
from src.routes.common import client_ip, settings_of

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Receive, Scope, Send

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


# When to come back after "could not check" (the database or Redis away): the error page's 503 says
# the same (src/errors.py). Without it a load balancer or a client cannot tell the outage from a fault.
RETRY_WHEN_UNAVAILABLE = "30"


def headers_for(verdict: documents.Verdict) -> dict[str, str]:
    headers = dict(VERIFY_HEADERS)
    if verdict.retry_after:
        headers["Retry-After"] = str(verdict.retry_after)
    elif verdict.http_status == 503:
        headers["Retry-After"] = RETRY_WHEN_UNAVAILABLE
    return headers


def render_page(request: Request[Any, Any, Any], verdict: documents.Verdict, typed: str) -> bytes:
    """The verify page for a verdict: the one rendering both ways in (ScanPage and the handler) use."""
    template = request.app.template_engine.get_template("verify/page.html")  # type: ignore[union-attr]
    return template.render(
        request=request,
        verdict=verdict,
        typed=typed[:MAX_TYPED],
        # A code that matches nothing is well formed: shown back as printed, so a typo is easy to see.
        printed=documents.printed(verdict.code) if verdict.found or verdict.status == "not_found" else "",
        verify_host=documents.verify_host(settings_of(request).verify_base),
    ).encode()


class ScanPage:
    """The scan path of `/v/CODE`, answered before Litestar's way into a handler (request and
    signature models, keyword arguments, the Template response): what every QR code opens (a
    canonical, well-formed code). Fast path: the verify gate of `make bench` (0.30 x /healthz on
    SQLite), which the handler alone misses (bench/README.md).

    The app's middleware all still run around it (allowed hosts, input checks, security headers,
    compression, error pages); anything else on this route (a typed form to redirect, a typing
    error, another method) goes on to the handler, which answers every case and renders through the
    same function. tests/test_verify_page.py holds the two to the same status, headers and page.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        code = scope["path_params"].get("code", "")
        if (
            scope.get("method") != "GET"
            or documents.normalise(code) != code
            or not documents.is_well_formed(code)
        ):
            await self.app(scope, receive, send)
            return
        request: Request[Any, Any, Any] = Request(scope, receive)
        verdict = await check(request, code)
        body = render_page(request, verdict, code)
        headers = [
            (b"content-type", b"text/html; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
            *((name.lower().encode(), value.encode()) for name, value in headers_for(verdict).items()),
        ]
        await send({"type": "http.response.start", "status": verdict.http_status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})
        if verdict.document_id:
            # Counted for the learner's Activity after the answer has gone: the page never waits.
            await documents.record_checks([verdict.document_id], utcnow(), settings_of(request).tz)


class VerifyController(Controller):
    include_in_schema = False

    @get("/v/{code:str}", name="verify_page", opt=PUBLIC, middleware=[ScanPage])
    async def show_verdict(
        self, request: Request[Any, Any, Any], code: FromPath[str]
    ) -> Response[bytes] | Redirect:
        """Page: the document's live status and key facts (and the document, if its learner allows).
        A scan of a canonical code is answered by ScanPage before this runs; this answers the rest."""
        canonical = documents.normalise(code)
        if canonical != code and documents.is_well_formed(canonical):
            return Redirect(path=f"/v/{canonical}", status_code=301, headers=VERIFY_HEADERS)
        verdict = await check(request, code)
        return Response(
            render_page(request, verdict, code),
            status_code=verdict.http_status,
            headers=headers_for(verdict),
            media_type=MediaType.HTML,
            background=BackgroundTask(
                documents.record_checks, [verdict.document_id], utcnow(), settings_of(request).tz
            )
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
