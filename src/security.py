"""Security headers on every response and an Origin check on every unsafe request.

Litestar's CSRF middleware is a signed double-submit cookie with no Origin check; this adds one:
a browser that says the request came from another site (Sec-Fetch-Site or Origin) is refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.exceptions import PermissionDeniedException
from litestar.middleware import ASGIMiddleware

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

    from src.settings import Settings

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class SecurityMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.base_origin = _origin_of(settings.base_url)

    def _cross_site(self, scope: Scope) -> bool:
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        fetch_site = headers.get("sec-fetch-site")
        if fetch_site is not None:
            return fetch_site not in {"same-origin", "none"}
        origin = headers.get("origin")
        if origin is None or origin == "null":
            return origin == "null"
        own = {self.base_origin}
        host = headers.get("host")
        if host:
            own.add(f"{'https' if self.settings.https else 'http'}://{host}".lower())
        return origin.lower() not in own

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if scope.get("method") in UNSAFE_METHODS and self._cross_site(scope):
            # The app's error handler answers: the friendly 403 page (or fragment), with these headers.
            raise PermissionDeniedException()
        await next_app(scope, receive, self._wrap(send))

    def _wrap(self, send: Send) -> Send:
        extra = security_headers(self.settings)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                for name, value in extra.items():
                    # A page may ask for a stricter referrer policy (the verify page sends none).
                    if name != "Referrer-Policy" or name not in headers:
                        headers[name] = value
                if "cache-control" not in headers:
                    # Private by default; public pages and static files set their own.
                    headers["Cache-Control"] = "no-store"
            await send(message)

        return send_with_headers


def security_headers(settings: Settings) -> dict[str, str]:
    """The headers every response carries. Error answers raised outside a route (unknown path,
    refused CSRF token) never pass through the middleware, so the error handler adds these too."""
    headers = {
        "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    }
    if settings.https:
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    return headers
