"""Compression for GET pages only (BREACH), and static files compressed once, not per request.

The CSRF token is constant per cookie. A response that reflects what the request sent (a form
posted back with errors, a search box echoing ?q=) next to that token must not be compressed, or an
attacker who can choose the input could read the token from the compressed size.
"""

from __future__ import annotations

import gzip
import mimetypes
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import brotli
from litestar.middleware.compression import CompressionMiddleware

from src.assets import STATIC

if TYPE_CHECKING:
    from litestar.types import HTTPResponseBodyEvent, HTTPResponseStartEvent, Receive, Scope, Send


class PostSafeCompressionMiddleware(CompressionMiddleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        static = scope.get("path", "").startswith("/static/")  # files never echo the request
        if static and scope.get("method") in {"GET", "HEAD"} and await _send_precompressed(scope, send):
            return
        if not static and (scope.get("method") not in {"GET", "HEAD"} or scope.get("query_string")):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


# --- static files, compressed once -------------------------------------------------------------

IMMUTABLE = b"public, max-age=31536000, immutable"


@cache
def _static_files() -> dict[str, Path]:
    """Every file under static/ by its URL path: the only names answered here (no path is built from
    the request)."""
    return {
        f"/static/{path.relative_to(STATIC).as_posix()}": path for path in STATIC.rglob("*") if path.is_file()
    }


@cache
def precompressed(url_path: str) -> dict[str, bytes] | None:
    """A static file's bytes compressed with brotli (quality 11) and gzip (level 9), made once at
    first use and kept for the life of the process (the files change only with a deploy, and their
    URLs carry a content hash)."""
    path = _static_files().get(url_path)
    if path is None:
        return None
    raw = path.read_bytes()
    return {
        "br": brotli.compress(raw, quality=11),
        "gzip": gzip.compress(raw, compresslevel=9, mtime=0),
    }


def warm_static() -> None:
    """Compress every static file now (at start-up), so that no request pays for it."""
    for url_path in _static_files():
        precompressed(url_path)


def _accepted(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"accept-encoding":
            offered = {part.split(";")[0].strip() for part in value.decode("latin-1").lower().split(",")}
            if "br" in offered:
                return "br"
            if "gzip" in offered:
                return "gzip"
    return None


async def _send_precompressed(scope: Scope, send: Send) -> bool:
    """Answer a GET/HEAD for a static file from its compressed copy; False when this cannot (unknown
    file, or a client that accepts neither encoding: the static router then sends it as it is)."""
    encoding = _accepted(scope)
    bodies = precompressed(scope.get("path", "")) if encoding else None
    if encoding is None or bodies is None:
        return False
    body = bodies[encoding]
    content_type = mimetypes.guess_type(scope["path"])[0] or "application/octet-stream"
    if content_type.startswith("text/") or content_type in {"application/javascript", "text/javascript"}:
        content_type += "; charset=utf-8"
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-encoding", encoding.encode()),
        (b"vary", b"Accept-Encoding"),
        (b"cache-control", IMMUTABLE),
        (b"content-length", str(len(body)).encode()),
    ]
    start: HTTPResponseStartEvent = {"type": "http.response.start", "status": 200, "headers": headers}
    await send(start)
    end: HTTPResponseBodyEvent = {
        "type": "http.response.body",
        "body": b"" if scope.get("method") == "HEAD" else body,
        "more_body": False,
    }
    await send(end)
    return True
