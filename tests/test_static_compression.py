"""Static files are compressed once (brotli and gzip, at start-up), not per request, and served with
Content-Encoding, Vary: Accept-Encoding and a year's immutable caching; a client that takes neither
encoding gets the file as it is."""

from __future__ import annotations

import gzip
from typing import Any

import brotli
import pytest

from src import compression
from src.assets import STATIC

pytestmark = pytest.mark.engine_free  # no database: run once, on SQLite, and not emptied before

CSS = "/static/css/portal.css"
HTMX = next(f"/static/{p.relative_to(STATIC).as_posix()}" for p in STATIC.rglob("htmx-*.min.js"))


def raw_get(client: Any, path: str, encoding: str, method: str = "GET") -> Any:
    """The response as sent (httpx would undo the encoding in `.content`)."""
    with client.stream(method, path, headers={"Accept-Encoding": encoding}) as response:
        body = b"".join(response.iter_raw())
    return response, body


@pytest.mark.parametrize("path", [CSS, HTMX, CSS + "?v=0123456789ab"])
@pytest.mark.parametrize(
    ("accepts", "encoding", "decode"),
    [
        ("br, gzip", "br", brotli.decompress),
        ("gzip, deflate, br;q=0.9", "br", brotli.decompress),
        ("gzip", "gzip", gzip.decompress),
        ("deflate, gzip;q=1.0", "gzip", gzip.decompress),
    ],
)
def test_a_static_file_is_sent_compressed_with_vary_and_immutable_caching(
    client: Any, path: str, accepts: str, encoding: str, decode: Any
) -> None:
    response, body = raw_get(client, path, accepts)
    assert response.status_code == 200
    assert response.headers["content-encoding"] == encoding
    assert response.headers["vary"].lower() == "accept-encoding"
    assert {d.strip() for d in response.headers["cache-control"].split(",")} == {
        "public",
        "max-age=31536000",
        "immutable",
    }
    assert int(response.headers["content-length"]) == len(body)
    original = (STATIC / path.removeprefix("/static/").split("?")[0]).read_bytes()
    assert decode(body) == original
    assert len(body) < len(original) / 2
    assert response.headers["content-type"].startswith(
        "text/css" if path.startswith(CSS) else "text/javascript"
    )
    assert response.headers["x-content-type-options"] == "nosniff"  # the security headers still apply


def test_a_client_without_br_or_gzip_gets_the_file_as_it_is(client: Any) -> None:
    response, body = raw_get(client, CSS, "identity")
    assert response.status_code == 200
    assert "content-encoding" not in response.headers
    assert body == (STATIC / "css/portal.css").read_bytes()


def test_head_sends_the_headers_without_a_body(client: Any) -> None:
    response, body = raw_get(client, CSS, "br", method="HEAD")
    assert response.status_code == 200 and response.headers["content-encoding"] == "br"
    assert body == b""


def test_files_are_compressed_once_not_per_request(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    raw_get(client, CSS, "br")  # compressed at start-up at the latest
    calls: list[int] = []
    real = compression.brotli.compress
    monkeypatch.setattr(compression.brotli, "compress", lambda *a, **k: calls.append(1) or real(*a, **k))
    monkeypatch.setattr(compression.gzip, "compress", lambda *a, **k: calls.append(1) or b"")
    for _ in range(5):
        for accepts in ("br", "gzip"):
            for path in (CSS, HTMX):
                assert raw_get(client, path, accepts)[0].status_code == 200
    assert calls == []


@pytest.mark.parametrize(
    "path", ["/static/css/missing.css", "/static/../src/app.py", "/static/css/../../pyproject.toml"]
)
def test_only_files_under_static_are_answered(client: Any, path: str) -> None:
    response, body = raw_get(client, path, "br")
    assert response.status_code in (400, 404)
    assert b"create_app" not in body and b"[project]" not in body


def test_a_second_start_reads_the_compressed_files_back_instead_of_compressing(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "compressed-static"
    files = sum(1 for path in STATIC.rglob("*") if path.is_file())
    assert compression.warm_static(cache) == files  # the first start on this host compresses each
    written = {entry.name: entry.stat().st_mtime_ns for entry in cache.iterdir()}
    assert len(written) == 2 * files  # brotli and gzip for each
    before = compression.precompressed(CSS)

    calls: list[int] = []
    monkeypatch.setattr(compression.brotli, "compress", lambda *a, **k: calls.append(1) or b"")
    monkeypatch.setattr(compression.gzip, "compress", lambda *a, **k: calls.append(1) or b"")
    assert compression.warm_static(cache) == 0
    assert calls == []
    assert {entry.name: entry.stat().st_mtime_ns for entry in cache.iterdir()} == written  # not rewritten
    assert compression.precompressed(CSS) == before


def test_copies_no_longer_needed_are_removed(tmp_path: Any) -> None:
    """Copies of files an earlier release had, or made by an earlier recipe, go at the next start."""
    cache = tmp_path / "compressed-static"
    compression.warm_static(cache)
    stale = cache / f"{'0' * 64}-{compression.RECIPE}.br"  # a file of an earlier release
    stale.write_bytes(b"old")
    older_recipe = next(cache.glob("*.br")).with_name("f" * 64 + "-br9-gz6.br")
    older_recipe.write_bytes(b"old")
    assert compression.warm_static(cache) == 0
    assert not stale.exists() and not older_recipe.exists()
