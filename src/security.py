"""Security headers on every response, an Origin check on every unsafe request, input that can never
reach the database (NUL bytes, ids beyond its integers), and CSRF tokens bound to the session.

Litestar's CSRF middleware is a signed double-submit cookie with no Origin check, not bound to the
session, and it crashes (TypeError in compare_digest) on a long token with a non-ASCII character;
`CSRFMiddleware` below replaces it. A browser that says the request came from another site
(Sec-Fetch-Site or Origin) is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_to_bytes, urlsplit

from litestar import Request
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.exceptions import (
    ClientException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
)
from litestar.middleware import ASGIMiddleware
from litestar.utils.scope.state import ScopeState

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

    from src.settings import Settings

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Primary keys are PostgreSQL `serial` (int4); a larger id cannot name a row, and would make the
# driver raise instead of finding nothing.
ID_RANGE = range(-(2**31), 2**31)
RETRY_AFTER_SECONDS = "60"
# The verifier API reads no cookie and no session, so a page of any site may call it (CORS): its
# unsafe requests skip the Origin check, and a browser's preflight is answered here.
OPEN_API_PREFIX = "/api/"
PREFLIGHT = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-allow-methods", b"GET, POST"),
    (b"access-control-allow-headers", b"content-type"),
    (b"access-control-max-age", b"86400"),
    (b"content-length", b"0"),
]


def cookie_name(name: str, https: bool) -> str:
    """`__Host-` cookies are Secure, host-only and for path / by the browser's own rule, so a
    sibling subdomain cannot plant one; browsers accept the prefix only over https."""
    return f"__Host-{name}" if https else name


def _has_nul(raw: bytes) -> bool:
    return b"\x00" in raw or b"\x00" in unquote_to_bytes(raw)


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class SecurityMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.base_origin = _origin_of(settings.base_url)
        # Encoded once: what every response carries, and what it gets unless it set its own.
        extra = {name.lower().encode(): value.encode() for name, value in security_headers(settings).items()}
        self._defaults = {
            b"referrer-policy": extra.pop(b"referrer-policy"),
            b"cache-control": b"no-store",
        }
        self._forced = extra

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
        method = scope.get("method")
        if scope["path"].startswith(OPEN_API_PREFIX):
            if method == "OPTIONS":
                await self._preflight(send)
                return
        elif method in UNSAFE_METHODS and self._cross_site(scope):
            # The app's error handler answers: the friendly 403 page (or fragment), with these headers.
            raise PermissionDeniedException()
        check_input(scope)
        await next_app(scope, receive, self._wrap(send))

    async def _preflight(self, send: Send) -> None:
        wrapped = self._wrap(send)
        await wrapped({"type": "http.response.start", "status": 204, "headers": list(PREFLIGHT)})
        await wrapped({"type": "http.response.body", "body": b"", "more_body": False})

    def _wrap(self, send: Send) -> Send:
        forced, defaults = self._forced, self._defaults

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Raw header pairs, edited in one pass: this runs on every response.
                raw = [(bytes(n), bytes(v)) for n, v in message.get("headers") or ()]
                present = {name.lower() for name, _ in raw}
                headers = [(n, v) for n, v in raw if n.lower() not in forced] + list(forced.items())
                # A page may ask for a stricter referrer policy (the verify page sends none), and
                # public pages and static files set their own caching: private by default.
                headers += [(n, v) for n, v in defaults.items() if n not in present]
                if message["status"] == 429 and b"retry-after" not in present:
                    # Every "too many" answer says when to come back, whichever code produced it.
                    headers.append((b"retry-after", RETRY_AFTER_SECONDS.encode()))
                message["headers"] = headers
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


def check_input(scope: Scope) -> None:
    """Refuse what no handler can use: a NUL byte anywhere in the address, a header or a cookie
    (PostgreSQL text cannot hold one; file names neither) is a 400, and an id path parameter
    beyond the database's integers names no row: 404."""
    query = scope.get("query_string", b"")
    if _has_nul(scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")) or _has_nul(query):
        raise ClientException()
    for name, value in scope["headers"]:
        # Cookie values are percent-decoded when read (a session id names a file); other headers
        # are only passed on as they are.
        if b"\x00" in value or (name.lower() == b"cookie" and _has_nul(value)):
            raise ClientException()
    for param in scope.get("path_params", {}).values():
        if isinstance(param, int) and param not in ID_RANGE:
            raise NotFoundException()
        if isinstance(param, str) and "\x00" in param:
            raise ClientException()


# --- CSRF -----------------------------------------------------------------------------------------

TOKEN_RE = re.compile(r"[0-9a-f]{128}")
FIELD = "_csrf_token"  # the names Litestar's own CSRF used, kept so forms and htmx need no change
HEADER = "x-csrftoken"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class CSRFMiddleware(ASGIMiddleware):
    """Signed double-submit tokens bound to the logged-in session.

    A token is 64 hex characters of randomness and an HMAC-SHA256 over them and the session id
    (none while logged out). The cookie and the form field (or htmx header) must carry the same
    token and it must be signed for *this* session, so a token from another session (planted
    cookie and all) is refused. Signed with the newest key, checked with all of them. A page
    request whose cookie was made for another session (just logged in or out) gets a new token.
    """

    scopes = (ScopeType.HTTP,)
    should_bypass_for_scope = staticmethod(lambda scope: scope["path"].startswith("/static/"))
    # Routes that set no cookie and read no session (the public verify page and its JSON API, whose
    # POST carries no cookie to protect) opt out with opt={"exclude_from_csrf": True}.
    exclude_opt_key = "exclude_from_csrf"

    def __init__(self, secret_keys: tuple[str, ...], https: bool, session_cookie: str) -> None:
        self.keys = [key.encode() for key in secret_keys]
        self.https = https
        self.cookie = cookie_name("portal_csrf", https)
        self.session_cookie = session_cookie

    def _sign(self, nonce: str, binding: str, key: bytes) -> str:
        return hmac.new(key, f"{nonce}|{binding}".encode(), hashlib.sha256).hexdigest()

    def new_token(self, binding: str) -> str:
        nonce = secrets.token_hex(32)
        return nonce + self._sign(nonce, binding, self.keys[-1])

    def valid(self, token: Any, binding: str) -> bool:
        # Anything but 128 lower-case hex characters is refused before any comparison: a non-ASCII
        # string would make hmac.compare_digest raise.
        if not isinstance(token, str) or not TOKEN_RE.fullmatch(token):
            return False
        nonce, mac = token[:64], token[64:]
        return any(hmac.compare_digest(mac, self._sign(nonce, binding, key)) for key in self.keys)

    def binding(self, request: Request[Any, Any, Any]) -> str:
        if request.scope.get("user") is None:
            return ""
        return request.cookies.get(self.session_cookie) or ""

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        request: Request[Any, Any, Any] = Request(scope, receive)
        binding = self.binding(request)
        cookie = request.cookies.get(self.cookie)
        state = ScopeState.from_scope(scope)
        if scope.get("method") not in UNSAFE_METHODS:
            if cookie is not None and self.valid(cookie, binding):
                state.csrf_token = cookie
                await next_app(scope, receive, send)
                return
            state.csrf_token = token = self.new_token(binding)
            await next_app(scope, receive, self._setting_cookie(send, token))
            return
        submitted: Any = request.headers.get(HEADER)
        if request.headers.get("content-type", "").startswith(FORM_TYPES):
            form = await request.form()
            # A NUL byte cannot be stored (PostgreSQL refuses it): refused here for every form.
            if any(isinstance(v, str) and "\x00" in v for _, v in form.multi_items()):
                raise ClientException()
            submitted = submitted or form.get(FIELD)
        if cookie is not None and self.valid(cookie, binding) and submitted == cookie:
            state.csrf_token = cookie
            await next_app(scope, receive, send)
            return
        session_id = request.cookies.get(self.session_cookie)
        if binding == "" and session_id and self.valid(submitted, session_id) and submitted == cookie:
            # Signed for this browser's session, which has since ended (idle, or logged out
            # elsewhere): log in again, as any page would say.
            raise NotAuthorizedException()
        raise PermissionDeniedException("CSRF token verification failed")

    def _setting_cookie(self, send: Send, token: str) -> Send:
        # The header as Litestar's Cookie writes it, made by hand: the token is hex, so nothing needs
        # quoting, and Cookie.to_header (http.cookies, dataclasses.asdict) cost a tenth of a page.
        header = f"{self.cookie}={token}; HttpOnly; Path=/; SameSite=lax{'; Secure' if self.https else ''}"

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableScopeHeaders.from_message(message).add("set-cookie", header)
            await send(message)

        return send_with_cookie
