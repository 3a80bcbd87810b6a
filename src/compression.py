"""Compression for GET pages only (BREACH), and static files compressed once, not per request.

The CSRF token is constant per cookie. A response that reflects what the request sent (a form
posted back with errors, a search box echoing ?q=) next to that token must not be compressed, or an
attacker who can choose the input could read the token from the compressed size.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import os
import zlib
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, cast

import brotli
from litestar.config.compression import CompressionConfig
from litestar.middleware.compression import CompressionMiddleware

from src.assets import STATIC

if TYPE_CHECKING:
    from collections.abc import Iterable

    from litestar.types import HTTPResponseBodyEvent, HTTPResponseStartEvent, Message, Receive, Scope, Send

# Brotli for pages of 4 KB and more to browsers that accept it (all current ones), gzip for smaller
# pages and the rest: on a page of a packet or two brotli's few saved bytes cost twice gzip's CPU
# (the verify gate of `make bench`). Brotli 4 with a 256 KB window and gzip 6 compress our pages
# within a few percent of slower settings; below quality 4 brotli is larger than gzip 6.
# The figures are in bench/README.md.
BROTLI_FROM = 4 * 1024
COMPRESSION = CompressionConfig(
    backend="brotli",
    brotli_gzip_fallback=True,
    brotli_quality=4,
    brotli_lgwin=18,
    gzip_compress_level=6,
    minimum_size=500,
)


class PostSafeCompressionMiddleware(CompressionMiddleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        static = scope.get("path", "").startswith("/static/")  # files never echo the request
        if static and scope.get("method") in {"GET", "HEAD"} and await _send_precompressed(scope, send):
            return
        if not static and (scope.get("method") not in {"GET", "HEAD"} or scope.get("query_string")):
            await self.app(scope, receive, send)
            return
        offered = _offered(scope)
        if not offered:
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, self._one_shot(send, offered, scope))

    def _one_shot(self, send: Send, offered: frozenset[str], scope: Scope) -> Send:
        """Compress a response sent as one body in one call, as nearly every page is (fast path: the
        verify gate of `make bench`); a streamed body (more_body) goes to Litestar's own wrapper,
        which compresses it chunk by chunk."""
        start: HTTPResponseStartEvent | None = None
        streaming: Send | None = None

        async def send_wrapper(message: Message) -> None:
            nonlocal start, streaming
            if streaming is not None:
                await streaming(message)
                return
            if message["type"] == "http.response.start":
                start = cast("HTTPResponseStartEvent", message)
                return
            if start is not None and message["type"] == "http.response.body" and not message.get("more_body"):
                body = message["body"]
                if len(body) >= self.config.minimum_size and not _has_header(start, b"content-encoding"):
                    encoding, message["body"] = _compress(body, offered, self.config)
                    start["headers"] = _encoded_headers(start["headers"], encoding, len(message["body"]))
                await send(start)
                await send(message)
                return
            encoding = "br" if "br" in offered else "gzip"
            streaming = self.create_compression_send_wrapper(
                send=send, compression_encoding=encoding, scope=scope
            )
            if start is not None:
                await streaming(start)
            await streaming(message)

        return send_wrapper


def _offered(scope: Scope) -> frozenset[str]:
    """The encodings we make that the request accepts (neither: an empty set); `;q=0` refuses one."""
    for key, value in scope.get("headers", []):
        if key == b"accept-encoding":
            accepted = set()
            for part in value.lower().split(b","):
                coding, _, params = part.partition(b";")
                if not _refused(params):
                    accepted.add(coding.strip())
            return frozenset(coding for coding in ("br", "gzip") if coding.encode() in accepted)
    return frozenset()


def _refused(params: bytes) -> bool:
    for param in params.split(b";"):
        name, _, weight = param.strip().partition(b"=")
        if name == b"q":
            try:
                return float(weight) <= 0
            except ValueError:
                return True  # a weight that is not a number accepts nothing
    return False


def _compress(body: bytes, offered: frozenset[str], config: CompressionConfig) -> tuple[str, bytes]:
    if "br" in offered and (len(body) >= BROTLI_FROM or "gzip" not in offered):
        return "br", brotli.compress(
            body, mode=brotli.MODE_TEXT, quality=config.brotli_quality, lgwin=config.brotli_lgwin
        )
    # A window no larger than the body (zlib's minimum is 512 bytes); 16 + bits asks for a gzip header.
    bits = min(15, max(9, (len(body) - 1).bit_length()))
    # And a match-finding table sized to the body (fast path: the verify gate of `make bench`):
    # zlib's default (memLevel 8) allocates and clears 64 KB of table and 64 KB of buffer on every
    # call, for a 2 KB page too; a smaller one gives the same bytes out. From 32 KB on this is the
    # default again.
    compressor = zlib.compressobj(config.gzip_compress_level, zlib.DEFLATED, 16 + bits, max(4, bits - 7))
    return "gzip", compressor.compress(body) + compressor.flush()


def _has_header(start: HTTPResponseStartEvent, name: bytes) -> bool:
    return any(key.lower() == name for key, _ in start["headers"])


def _encoded_headers(
    headers: Iterable[tuple[bytes, bytes]], encoding: str, length: int
) -> list[tuple[bytes, bytes]]:
    out = [(b"content-encoding", encoding.encode()), (b"content-length", str(length).encode())]
    vary = b"Accept-Encoding"
    for key, value in headers:
        lowered = key.lower()
        if lowered == b"content-length":
            continue
        if lowered == b"vary":
            vary = value if b"accept-encoding" in value.lower() else value + b", Accept-Encoding"
            continue
        out.append((key, value))
    out.append((b"vary", vary))
    return out


# --- static files, compressed once -------------------------------------------------------------

IMMUTABLE = b"public, max-age=31536000, immutable"


@cache
def _static_files() -> dict[str, Path]:
    """Every file under static/ by its URL path: the only names answered here (no path is built from
    the request)."""
    return {
        f"/static/{path.relative_to(STATIC).as_posix()}": path for path in STATIC.rglob("*") if path.is_file()
    }


# Brotli 11 and gzip 9 take seconds for the static files; the copies are kept under VAR_DIR, named
# by the file's content hash and this recipe, so a restart (or another process on the host) reads
# them back instead of compressing again. A new recipe or a changed file gets new names.
RECIPE = "br11-gz9"
_LOADED: dict[str, dict[str, bytes]] = {}


def _compress_file(raw: bytes) -> dict[str, bytes]:
    return {
        "br": brotli.compress(raw, quality=11),
        "gzip": gzip.compress(raw, compresslevel=9, mtime=0),
    }


def precompressed(url_path: str) -> dict[str, bytes] | None:
    """A static file's bytes compressed with brotli (quality 11) and gzip (level 9): those loaded
    by `warm_static` at start-up, or made at first use and kept for the life of the process (the
    files change only with a deploy, and their URLs carry a content hash)."""
    bodies = _LOADED.get(url_path)
    if bodies is None:
        path = _static_files().get(url_path)
        if path is None:
            return None
        bodies = _LOADED.setdefault(url_path, _compress_file(path.read_bytes()))
    return bodies


def warm_static(cache_dir: Path) -> int:
    """Load every static file's compressed copies before any request: from `cache_dir` when an
    earlier start made them, else made now and written there for the next start. Copies of files
    that are no longer there are removed. Returns how many files had to be compressed."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    made = 0
    kept = set()
    for url_path, path in _static_files().items():
        raw = path.read_bytes()
        stem = f"{hashlib.sha256(raw).hexdigest()}-{RECIPE}"
        names = {encoding: f"{stem}.{encoding}" for encoding in ("br", "gzip")}
        kept |= set(names.values())
        try:
            bodies = {encoding: (cache_dir / name).read_bytes() for encoding, name in names.items()}
        except FileNotFoundError:
            bodies = _compress_file(raw)
            made += 1
            for encoding, name in names.items():
                _write_whole(cache_dir / name, bodies[encoding])
        _LOADED[url_path] = bodies
    for entry in cache_dir.iterdir():
        if entry.name not in kept and not entry.name.startswith("."):
            entry.unlink(missing_ok=True)
    return made


def _write_whole(path: Path, data: bytes) -> None:
    """Write under a temporary name, then rename: a process starting at the same moment reads a
    whole copy or none."""
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    draft.write_bytes(data)
    os.replace(draft, path)


def _accepted(scope: Scope) -> str | None:
    offered = _offered(scope)
    return "br" if "br" in offered else "gzip" if "gzip" in offered else None


async def _send_precompressed(scope: Scope, send: Send) -> bool:
    """Answer a GET/HEAD for a static file from its compressed copy, before the static router (fast
    path: the first-load budget of `make bench`, at the smallest size, compressed once); False when
    this cannot (unknown file, or a client that accepts neither encoding: the router sends it)."""
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
