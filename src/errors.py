"""The two ways an action fails that every area raises (`Conflict`, `Refused`), and error pages: a
whole page for a normal request, the fragment alone for htmx; never a traceback.

A request that needs a log-in is sent to the log-in page (htmx gets HX-Redirect, so the log-in page
is never swapped into a fragment). Routes answer `Conflict` and `Refused` with one helper,
`src.routes.common.answer_refusal`.
"""

from __future__ import annotations

import logging
import secrets
import sqlite3
from typing import Any
from urllib.parse import quote, urlsplit

import asyncpg
import redis.exceptions
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR, HTTP_503_SERVICE_UNAVAILABLE

from src.htmx import VARY, wants_fragment
from src.security import security_headers

log = logging.getLogger("portal.errors")


class Conflict(Exception):
    """Someone else changed the thing first (its compare-and-set changed no row): nothing was written,
    and the page should be reloaded. The route says what changed, in its page's words."""


class Refused(Exception):
    """The action is not allowed now: the message says why, in words for the person, and `field`
    names the form field it is about (so a page puts it beside that field without guessing; empty
    when it is about the whole action, a limit reached for one)."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


TITLES = {
    400: ("Bad request", "The request could not be understood. Go back and try again."),
    403: (
        "You cannot do that",
        "This request was refused. If you followed a link from another site, "
        "go to the portal directly and try again.",
    ),
    404: (
        "Page not found",
        "If you typed the web address, check it is correct. "
        "If you pasted the web address, check you copied the entire address.",
    ),
    405: ("Not allowed", "This page cannot be used that way."),
    413: ("Too much data", "What you sent is too large. Shorten it and try again."),
    422: ("Check what you entered", "Some of what you entered needs correcting."),
    429: ("Too many attempts", "You have tried too many times. Wait a few minutes, then try again."),
    500: ("Sorry, there is a problem with the service", "Try again later. Nothing you entered was saved."),
    503: ("Sorry, the service is unavailable", "Try again shortly. Nothing you entered was saved."),
}


def new_reference() -> str:
    """A short reference shown on the error page and written in the log line, so that what a
    person reads out to support finds the line (8 characters: no two alike in practice)."""
    return secrets.token_hex(4).upper()


def error_response(
    request: Request[Any, Any, Any], status: int, detail: str | None = None, reference: str | None = None
) -> Response[Any]:
    title, text = TITLES.get(status, TITLES[500] if status >= 500 else TITLES[400])
    if reference is None:
        reference = new_reference()
        log.info("%s %s answered %s (reference %s)", request.method, request.url.path, status, reference)
    context = {"status": status, "title": title, "text": detail or text, "reference": reference}
    # Errors raised before the session and account middleware ran (unknown path, refused CSRF
    # token, cross-site request) have neither in scope; the page then shows the logged-out menu.
    request.scope.setdefault("user", None)
    request.scope.setdefault("session", {})
    headers = {**security_headers(request.app.state.settings), "Cache-Control": "no-store", **VARY}
    if status in {429, 503}:
        headers["Retry-After"] = "60" if status == 429 else "30"
    name = "partials/errors/_error.html" if wants_fragment(request) else "errors/error.html"
    return Template(template_name=name, context=context, status_code=status, headers=headers)  # type: ignore[return-value]


def login_redirect(request: Request[Any, Any, Any]) -> Response[Any]:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = f"/login?next={quote(target, safe='/')}"
    if wants_fragment(request):
        current = request.headers.get("HX-Current-URL")
        if current:
            parts = urlsplit(current)
            location = (
                f"/login?next={quote(parts.path + ('?' + parts.query if parts.query else ''), safe='/')}"
            )
        return Response(content="", status_code=204, headers={"HX-Redirect": location})
    return Redirect(path=location, status_code=303)  # type: ignore[return-value]


def http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if isinstance(exc, NotAuthorizedException):
        return login_redirect(request)
    detail = (
        exc.detail
        if exc.status_code in {403, 429}
        and exc.detail
        and exc.detail != TITLES.get(exc.status_code, ("",))[0]
        else None
    )
    # Litestar's own messages (e.g. a missing CSRF token) are not written for people; ours are.
    if detail and detail in {"CSRF token verification failed", "Forbidden", "Too Many Requests"}:
        detail = None
    return error_response(request, exc.status_code, detail)


# Messages of errors that say the connection itself is gone (asyncpg raises InterfaceError for these,
# and for programming mistakes such as two queries at once on one connection, which stay 500s).
_GONE = (
    "not in prerequisite state",
    "connection is closed",
    "connection was closed",
    "underlying connection",
)


def _unavailable(exc: BaseException) -> str | None:
    """Which shared service this error says is busy or away ("database", "Redis"), or None."""
    if isinstance(exc, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
        return "Redis"
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc)
        return "database" if "locked" in text or "unable to open" in text or "busy" in text else None
    if isinstance(exc, asyncpg.InterfaceError):
        return "database" if any(words in str(exc) for words in _GONE) else None
    if isinstance(exc, asyncpg.InternalClientError):
        # "cannot switch to state 11; another operation (2) is in progress": the server's notice that
        # it terminated the backend (a restart, an administrator) reached an idle pooled connection
        # just before its end did, and the next statement found asyncpg still discarding it.
        return "database" if "cannot switch to state" in str(exc) else None
    if isinstance(
        exc,
        asyncpg.PostgresConnectionError  # includes ConnectionDoesNotExistError
        | asyncpg.exceptions.OperatorInterventionError  # admin shutdown, crash shutdown, cannot connect now
        | asyncpg.TooManyConnectionsError
        | asyncpg.QueryCanceledError  # statement_timeout (src/db/pool.py), or cancelled by an administrator
        | OSError  # refused, reset, unreachable; asyncpg raises a bare OSError when every address refuses
        | TimeoutError,
    ):
        return "database"
    return None


def unavailable_service(exc: BaseException) -> str | None:
    """The shared service ("database" or "Redis", which holds the sessions and throttles) that is
    busy or unreachable, when that is what went wrong: not a bug, worth a "try again shortly" page.
    Drivers and task groups wrap errors, so the causes and groups are searched too, outermost first
    (redis wraps the OSError of a refused connection in its own ConnectionError)."""
    pending: list[BaseException | None] = [exc]
    seen: set[int] = set()
    while pending:
        current = pending.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        service = _unavailable(current)
        if service is not None:
            return service
        pending += [current.__cause__, current.__context__]
        if isinstance(current, BaseExceptionGroup):
            pending += list(current.exceptions)
    return None


def log_failure(request: Request[Any, Any, Any], exc: Exception) -> tuple[int, str]:
    """Log an unexpected error under a new reference: a warning naming the service that is away (the
    database or Redis: 503), the traceback otherwise (500). The status and the reference the person is shown."""
    reference = new_reference()
    service = unavailable_service(exc)
    if service is not None:
        log.warning(
            "%s unavailable on %s %s (reference %s): %r",
            service,
            request.method,
            request.url.path,
            reference,
            exc,
        )
        return HTTP_503_SERVICE_UNAVAILABLE, reference
    log.exception(
        "unhandled error on %s %s (reference %s)", request.method, request.url.path, reference, exc_info=exc
    )
    return HTTP_500_INTERNAL_SERVER_ERROR, reference


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    status, reference = log_failure(request, exc)
    return error_response(request, status, reference=reference)
