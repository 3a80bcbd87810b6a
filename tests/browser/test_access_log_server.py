"""`portal serve` writes its access lines without the token of an email link or a verify code: the
real server, as `make run` and production start it, read back from its own log."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.browser.conftest import Server

TOKEN = "eyJhY2NvdW50IjoxMn0.Zx3kQw.8vX1s0mJbE5lQ2nA"
CODE = "ABCD2EFGH3JKMN4PQRS5T"


def test_the_access_log_keeps_the_route_and_drops_the_secret(server: Server) -> None:
    log = Path(server.env["VAR_DIR"]) / "server.log"
    assert httpx.get(f"{server.url}/reset-password/{TOKEN}").status_code in {200, 400, 404}
    assert httpx.get(f"{server.url}/v/{CODE}").status_code in {400, 404}
    assert httpx.get(f"{server.url}/verify", params={"code": "lena@example.com"}).status_code in {200, 400}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and '"GET /verify?… HTTP/1.1"' not in log.read_text():
        time.sleep(0.1)
    text = log.read_text()
    assert '"GET /reset-password/… HTTP/1.1"' in text
    assert '"GET /v/… HTTP/1.1"' in text
    assert '"GET /verify?… HTTP/1.1"' in text
    access_lines = [line for line in text.splitlines() if '"GET ' in line]
    for secret in (TOKEN, CODE, "lena"):
        assert not [line for line in access_lines if secret in line], secret
    assert TOKEN not in text and CODE not in text
