"""Pages are compressed in one call when sent as one body (nearly all of them), and chunk by chunk by
Litestar's own wrapper when streamed; either way the bytes that arrive decode to the page."""

from __future__ import annotations

import asyncio
import gzip
from typing import Any

import brotli
import pytest
from litestar.config.compression import CompressionConfig

from src.compression import BROTLI_FROM, PostSafeCompressionMiddleware

pytestmark = pytest.mark.engine_free  # no database: run once, on SQLite, and not emptied before

PAGE = ("<p>Valid: issued by the awarding body on 3 March 2025</p>\n" * 200).encode()


def serve(chunks: list[bytes], accept: bytes, extra: list[tuple[bytes, bytes]] | None = None) -> Any:
    """What the middleware sends for an app answering with `chunks` (more_body on all but the last)."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"content-type", b"text/html; charset=utf-8"), *(extra or [])]
        if len(chunks) == 1:
            headers.append((b"content-length", str(len(chunks[0])).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for n, chunk in enumerate(chunks):
            await send({"type": "http.response.body", "body": chunk, "more_body": n < len(chunks) - 1})

    config = CompressionConfig(
        backend="brotli", brotli_gzip_fallback=True, brotli_quality=4, minimum_size=500
    )
    middleware = PostSafeCompressionMiddleware(app, config)
    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> Any:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/page",
        "query_string": b"",
        "headers": [(b"accept-encoding", accept)],
    }
    asyncio.run(middleware(scope, receive, send))
    start, *bodies = sent
    headers: dict[bytes, bytes] = {}
    for key, value in start["headers"]:
        assert key.lower() not in headers, f"{key!r} sent twice"
        headers[key.lower()] = value
    return headers, b"".join(m["body"] for m in bodies)


DECODE = {b"br": brotli.decompress, b"gzip": gzip.decompress}


@pytest.mark.parametrize(
    ("accept", "size", "encoding"),
    [
        (b"br, gzip", BROTLI_FROM, b"br"),
        (b"br, gzip", BROTLI_FROM - 1, b"gzip"),
        (b"br", 600, b"br"),
        (b"gzip;q=1.0, deflate", BROTLI_FROM * 2, b"gzip"),
        (b"BR, GZIP", 600, b"gzip"),
        (b"br;q=0, gzip", BROTLI_FROM * 2, b"gzip"),
        (b"gzip;q=0.0, br;q=0.5", 600, b"br"),
    ],
)
def test_one_body_is_compressed_with_the_right_encoding_and_length(
    accept: bytes, size: int, encoding: bytes
) -> None:
    page = PAGE[:size]
    headers, body = serve([page], accept, extra=[(b"vary", b"Cookie")])
    assert headers[b"content-encoding"] == encoding
    assert int(headers[b"content-length"]) == len(body) < len(page)
    assert headers[b"vary"] == b"Cookie, Accept-Encoding"
    assert DECODE[encoding](body) == page


def test_a_small_body_or_a_client_taking_neither_encoding_gets_it_as_it_is() -> None:
    for chunks, accept in (
        ([PAGE[:499]], b"br, gzip"),
        ([PAGE], b"deflate"),
        ([PAGE], b""),
        ([PAGE], b"br;q=0, gzip;q=0"),
        ([PAGE], b"gzip;q=zero"),
    ):
        headers, body = serve(chunks, accept)
        assert b"content-encoding" not in headers
        assert body == chunks[0]


@pytest.mark.parametrize(("accept", "encoding"), [(b"br, gzip", b"br"), (b"gzip", b"gzip")])
def test_a_streamed_body_is_compressed_chunk_by_chunk(accept: bytes, encoding: bytes) -> None:
    chunks = [PAGE[:3000], PAGE[3000:7000], PAGE[7000:]]
    headers, body = serve(chunks, accept)
    assert headers[b"content-encoding"] == encoding
    assert b"content-length" not in headers
    assert DECODE[encoding](body) == PAGE


def test_an_answer_already_encoded_is_left_alone() -> None:
    headers, body = serve([PAGE], b"br, gzip", extra=[(b"content-encoding", b"identity")])
    assert headers[b"content-encoding"] == b"identity"
    assert body == PAGE
