"""Every answer of the API under /api/ that is not a result: RFC 9457 problem details, never an HTML
page, whether a handler refused the request or the router did before any handler ran (a method the
address does not take, an unknown address, an error no handler expected). And the guard that reads a
JSON body within limits before any decoder sees it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request, Response, Router
from litestar.exceptions import HTTPException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR, HTTP_503_SERVICE_UNAVAILABLE
from litestar.types import ExceptionHandlersMap

from src.errors import http_exception_handler, internal_error_handler, log_failure
from src.routes.common import settings_of
from src.routes.verify import VERIFY_HEADERS
from src.security import security_headers

API_PREFIX = "/api/"
API_HEADERS = {**VERIFY_HEADERS, "Access-Control-Allow-Origin": "*"}
PROBLEM = "application/problem+json"
PROBLEM_TITLES = {
    400: "Bad request",
    404: "Not found",
    405: "Method not allowed",
    413: "Request too large",
    415: "Unsupported media type",
    429: "Too many requests",
    500: "Server error",
    503: "Service unavailable",
}
# Our own words pass through; Litestar's defaults (e.g. "Method Not Allowed") say no more than the
# title, so the title stands in for them.
DETAILED = {400, 413, 415}
# The largest request body any API operation takes: 100 printed codes of 21 characters are ~2.6 KB.
MAX_JSON_BYTES = 16 * 1024
# `{"codes": [...]}` is 2 deep. msgspec decodes nesting by recursion: 1,000 levels (~2 KB) raised
# RecursionError, a 500, before this limit was checked first.
MAX_JSON_DEPTH = 4


@dataclass
class Problem:
    type: str
    title: str
    status: int
    detail: str
    code: str | None = None


def problem(status: int, detail: str, code: str | None = None, **headers: str) -> Response[Any]:
    body = Problem(
        type="about:blank", title=PROBLEM_TITLES.get(status, "Error"), status=status, detail=detail
    )
    if code is not None:
        body.code = code
    return Response(content=body, status_code=status, media_type=PROBLEM, headers={**API_HEADERS, **headers})


def _under_api(request: Request[Any, Any, Any]) -> bool:
    return request.scope["path"].startswith(API_PREFIX)


def _problem_for(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    detail = exc.detail if status in DETAILED and exc.detail else PROBLEM_TITLES.get(status, "Error")
    allowed = (exc.headers or {}).get("allow")
    if status == 405 and allowed:
        detail = f"This address takes {allowed} only"
    # Errors the router raises never pass through the security middleware: their headers come here,
    # with the exception's own (Allow on a 405).
    headers = {**security_headers(settings_of(request)), **(exc.headers or {})}
    return problem(status, detail, **headers)


def answer_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """The app's handler for HTTP errors: problem details under /api/, the error page elsewhere."""
    if _under_api(request):
        return _problem_for(request, exc)
    return http_exception_handler(request, exc)


def answer_internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The app's handler for unexpected errors: a 500 (or 503 when the database is away) as problem
    details under /api/, with the reference that is in the log; the error page elsewhere."""
    if not _under_api(request):
        return internal_error_handler(request, exc)
    status, reference = log_failure(request, exc)
    headers = security_headers(settings_of(request))
    if status == HTTP_503_SERVICE_UNAVAILABLE:
        detail = f"The database is unavailable. Try again shortly (reference {reference})."
        return problem(HTTP_503_SERVICE_UNAVAILABLE, detail, **{**headers, "Retry-After": "30"})
    detail = f"Something went wrong on our side (reference {reference})."
    return problem(HTTP_500_INTERNAL_SERVER_ERROR, detail, **headers)


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    HTTPException: answer_http_exception,
    Exception: answer_internal_error,
}


async def _problem_for_unknown_schema_path(response: Response[Any]) -> Response[Any]:
    # Litestar's schema router answers an unknown path beside the schema with its own HTML 404 page.
    if response.status_code == 404:
        return problem(404, "Nothing is at this address: the schema is at /api/v1/openapi.json")
    return response


def schema_router(path: str) -> Router:
    """The router that serves the API's OpenAPI document (Litestar adds the handlers to it)."""
    return Router(
        path, route_handlers=[], include_in_schema=False, after_request=_problem_for_unknown_schema_path
    )


def nesting_depth(body: bytes, limit: int) -> int:
    """How deep arrays and objects nest in a JSON text, counting no further than `limit` + 1.
    Brackets inside strings do not count; the text need not be valid JSON."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


async def json_within_limits(request: Request[Any, Any, Any]) -> Response[Any] | None:
    """`before_request` of a handler that takes JSON: runs before its body is decoded. Another media
    type is a 415, a body over the handler's `request_max_body_size` a 413 (raised by `body()`),
    nesting deeper than any request of ours a 400."""
    media_type, _ = request.content_type
    if media_type != "application/json":
        return problem(415, "Send the body as JSON, with Content-Type: application/json")
    if nesting_depth(await request.body(), MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        return problem(400, f"The JSON is nested more than {MAX_JSON_DEPTH} levels deep")
    return None
