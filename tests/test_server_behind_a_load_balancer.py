"""A real `portal serve` process behind a load balancer: /readyz says whether to send it requests
(503 while the database or Redis cannot be reached, or while it is stopping), on SIGTERM a request
already in flight is still answered, and X-Forwarded-For names the client only when a configured
proxy sent it. The database and Redis are cut with a TCP proxy (the scale check's,
bench/scale/tcp_proxy.py), never by stopping the shared servers."""

from __future__ import annotations

import http.client
import json
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from bench.scale.tcp_proxy import TcpProxy
from tests.support.client import run
from tests.support.environment import DATABASE_URL, IS_POSTGRES, REDIS_URL, free_port
from tests.support.portal_process import SETTLE_SECONDS, Server, portal_servers


@pytest.fixture(scope="module")
def var_dir() -> Iterator[Path]:
    """One VAR_DIR for the module's servers: later starts reuse the compressed static files."""
    path = Path(tempfile.mkdtemp(prefix="portal-serve-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def serve(var_dir: Path, tmp_path: Path) -> Iterator[Callable[..., Server]]:
    with portal_servers(var_dir, tmp_path) as start:
        yield start


Proxied = tuple[str, Callable[[], None], Callable[[], None]]


@pytest.fixture
def through_a_proxy() -> Iterator[Callable[[str], Proxied]]:
    """Puts a TCP proxy (on the suite's shared loop) in front of a service: the service's URL through
    it, and the proxy's cut and restore. Every proxy is cut when the test ends."""
    proxies: list[TcpProxy] = []

    def proxied(url: str) -> Proxied:
        parts = urlsplit(url)
        proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432, free_port())
        run(proxy.restore())
        proxies.append(proxy)
        credentials = parts.netloc.rpartition("@")[0]
        netloc = f"{credentials}@127.0.0.1:{proxy.port}" if credentials else f"127.0.0.1:{proxy.port}"
        return (
            urlunsplit(parts._replace(netloc=netloc)),
            lambda: run(proxy.cut()),
            lambda: run(proxy.restore()),
        )

    yield proxied
    for proxy in proxies:
        run(proxy.cut())


def test_readyz_is_503_while_the_database_is_unreachable_and_200_again_after(serve, through_a_proxy):
    if IS_POSTGRES:
        database_url, cut, restore = through_a_proxy(DATABASE_URL)
        server = serve(database_url=database_url)
    else:
        # SQLite: the file goes away (a disk unmounted, a file moved); the process's open
        # connections would go on reading the old file, so readiness opens it anew.
        server = serve()
        served = Path(server.database_url.removeprefix("sqlite:///"))
        aside = served.with_suffix(".aside")

        def cut() -> None:
            served.rename(aside)

        def restore() -> None:
            aside.rename(served)

    assert server.get("/readyz")[:2] == (200, "ready")
    assert server.get("/healthz")[:2] == (200, "ok")
    cut()
    try:
        status, body, headers = server.wait_for("/readyz", 503)
        assert (status, body) == (503, "database unavailable")
        assert headers["retry-after"].isdigit()
        assert headers["cache-control"] == "no-store"
        assert server.get("/healthz")[:2] == (200, "ok")  # the process itself is alive
    finally:
        restore()
    assert server.wait_for("/readyz", 200)[:2] == (200, "ready")
    # Litestar's logging writes from a thread of its own: the line may follow the answer.
    log = server.wait_for_log("ready again (was: database unavailable)")
    assert "not ready: database unavailable" in log
    assert "ready again (was: database unavailable)" in log
    assert "Redis" not in log


def test_readyz_is_503_while_redis_is_unreachable_and_200_again_after(serve, through_a_proxy):
    redis_url, cut, restore = through_a_proxy(REDIS_URL)
    server = serve(redis_url=redis_url)
    assert server.get("/readyz")[:2] == (200, "ready")
    cut()
    try:
        status, body, headers = server.wait_for("/readyz", 503)
        assert (status, body) == (503, "Redis unavailable")
        assert headers["retry-after"].isdigit()
    finally:
        restore()
    assert server.wait_for("/readyz", 200)[:2] == (200, "ready")
    log = server.wait_for_log("ready again (was: Redis unavailable)")
    assert "not ready: Redis unavailable" in log
    assert "ready again (was: Redis unavailable)" in log
    assert "database unavailable" not in log


@contextmanager
def _request_held_open(port: int) -> Iterator[tuple[socket.socket, bytes]]:
    """A POST whose headers the app has read and whose body it is waiting for: in flight. The
    `Expect: 100-continue` answer proves the app asked for the body."""
    body = json.dumps({"codes": ["ABCD-EFGH-JKLM-NPQR-S"]}).encode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        sock.sendall(
            b"POST /api/v1/verify HTTP/1.1\r\n"
            + f"Host: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n".encode()
            + f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n".encode()
        )
        interim = b""
        while not interim.endswith(b"\r\n\r\n"):
            interim += sock.recv(1)
        assert interim.startswith(b"HTTP/1.1 100"), interim
        yield sock, body
    finally:
        sock.close()


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def test_on_sigterm_not_ready_no_new_connections_and_the_request_in_flight_answered(serve):
    server = serve()
    # A keep-alive connection opened before the stop, as nginx holds them.
    kept = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    kept.request("GET", "/readyz")
    first = kept.getresponse()
    assert (first.status, first.read()) == (200, b"ready")

    with _request_held_open(server.port) as (sock, body):
        server.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + SETTLE_SECONDS
        while not _refused(server.port):
            assert time.monotonic() < deadline, "still accepting connections after SIGTERM"
            time.sleep(0.05)

        # What arrives on a connection that was open: answered, "not ready", and the connection ends.
        kept.request("GET", "/readyz")
        stopping = kept.getresponse()
        assert (stopping.status, stopping.read()) == (503, b"stopping")
        assert stopping.getheader("connection") == "close"
        assert stopping.getheader("retry-after")
        kept.close()

        # The request in flight when the signal came is answered in full.
        sock.sendall(body)
        response = http.client.HTTPResponse(sock)
        response.begin()
        answer = json.loads(response.read())
        assert response.status == 200, answer
        assert len(answer["results"]) == 1  # the code's own answer (it matches no document)

    assert server.process.wait(timeout=SETTLE_SECONDS) in (0, -signal.SIGTERM)
    log = server.log_text()
    assert "Stopping: not ready, no new connections" in log
    assert "still open after" not in log  # nothing was cut short


def test_readyz_in_process_says_ready_when_the_database_answers(client):
    response = client.get("/readyz")
    assert (response.status_code, response.text) == (200, "ready")
    assert response.headers["cache-control"] == "no-store"
    assert "set-cookie" not in response.headers  # no session for a load balancer's checks


@pytest.mark.parametrize("settings", [{"redis_url": REDIS_URL}], indirect=True)
def test_readyz_in_process_says_ready_when_the_database_and_redis_answer(client):
    response = client.get("/readyz")
    assert (response.status_code, response.text) == (200, "ready")


def test_x_forwarded_for_names_the_client_only_when_a_configured_proxy_sent_it(serve):
    behind_us = serve()  # FORWARDED_ALLOW_IPS is 127.0.0.1 by default: this test is the proxy
    behind_another = serve(forwarded_allow_ips="192.0.2.1")
    # A client's own header, with nginx's address for it appended ($proxy_add_x_forwarded_for):
    # the address the proxy saw is the one believed, not what the client wrote in front of it.
    forwarded = {"X-Forwarded-For": "198.51.100.7, 203.0.113.9"}
    assert behind_us.get("/readyz", forwarded)[0] == 200  # the start-up polled /healthz only
    assert behind_another.get("/readyz", forwarded)[0] == 200

    [believed] = _access_lines(behind_us, "GET /readyz")
    assert believed.startswith("INFO:     203.0.113.9:"), believed
    [ignored] = _access_lines(behind_another, "GET /readyz")
    assert ignored.startswith("INFO:     127.0.0.1:"), ignored


def _access_lines(server: Server, request: str) -> list[str]:
    log = server.wait_for_log(request)
    return [line for line in log.splitlines() if f'"{request} HTTP/1.1"' in line]


def test_a_connection_that_never_sends_a_request_does_not_hold_the_stop(serve):
    """Idle connections are left to their client for the keep-alive time only (nginx closes its own
    sooner); one that sent nothing, as a browser's pre-opened one, is then closed, not waited for
    until the grace period ends. The keep-alive time is 1 s here, not 5: the same stop, sooner."""
    server = serve(shutdown_grace_seconds="120", keep_alive_seconds="1")
    silent = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=60) in (0, -signal.SIGTERM)
        assert silent.recv(1) == b""  # closed by the server
    finally:
        silent.close()
    assert "Cancelling" not in server.log_text()
