"""A real `portal serve` process behind a load balancer: /readyz says whether to send it requests
(503 while the database or Redis cannot be reached, or while it is stopping), and on SIGTERM a
request already in flight is still answered. The database and Redis are cut with a TCP proxy
(tests/support/tcp_proxy.py), never by stopping the shared servers."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.support.environment import DATABASE_URL, IS_POSTGRES, REDIS_URL, free_port
from tests.support.tcp_proxy import TcpProxy

ROOT = Path(__file__).resolve().parent.parent
START_SECONDS = 60  # a start takes 1-2 s; the shared machine may be very busy
SETTLE_SECONDS = 15  # a change of the database's or Redis' state shows in /readyz within ~3 s

# Settings a developer's shell may carry that must not reach the server (it gets its own).
DROPPED = {
    "REDIS_URL",
    "SECRET_KEYS",
    "PORT",
    "HOST",
    "WEB_CONCURRENCY",
    "ALLOWED_HOSTS",
    "TEST_DATABASE_URL",
}


@pytest.fixture(scope="module")
def var_dir() -> Iterator[Path]:
    """One VAR_DIR for the module's servers: the second start reuses the compressed static files."""
    path = Path(tempfile.mkdtemp(prefix="portal-serve-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    database_url: str

    def get(self, path: str) -> tuple[int, str, dict[str, str]]:
        with closing(http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)) as conn:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.read().decode(), {k.lower(): v for k, v in response.getheaders()}

    def wait_for(self, path: str, status: int) -> tuple[int, str, dict[str, str]]:
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            answer = self.get(path)
            if answer[0] == status or time.monotonic() > deadline:
                return answer
            time.sleep(0.2)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def _sqlite_copy(folder: Path) -> str:
    """The suite's SQLite database (migrated) copied for one server, which may then lose it."""
    copy = folder / "served.sqlite3"
    with closing(sqlite3.connect(DATABASE_URL.removeprefix("sqlite:///"))) as source:
        with closing(sqlite3.connect(copy)) as target:
            source.backup(target)
    return f"sqlite:///{copy}"


def _through(url: str, proxy: TcpProxy) -> str:
    parts = urlsplit(url)
    credentials = parts.netloc.rpartition("@")[0]
    netloc = f"{credentials}@127.0.0.1:{proxy.port}" if credentials else f"127.0.0.1:{proxy.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def _proxy_for(url: str) -> TcpProxy:
    parts = urlsplit(url)
    return TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)


@pytest.fixture
def serve(var_dir: Path, tmp_path: Path) -> Iterator[Callable[..., Server]]:
    started: list[Server] = []

    def start(database_url: str = "", redis_url: str = "") -> Server:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if k not in DROPPED}
        env.update(
            PORTAL_MODE="development",
            VAR_DIR=str(var_dir),
            DATABASE_URL=database_url or (DATABASE_URL if IS_POSTGRES else _sqlite_copy(tmp_path)),
            BASE_URL=f"http://127.0.0.1:{port}",
            ALLOWED_HOSTS=f"127.0.0.1:{port}",
            MAIL_DELIVERY="mailbox",
            RUN_MAIL_WORKER="false",
            DATABASE_POOL_MIN="1",
            DATABASE_POOL_MAX="2",
            SHUTDOWN_GRACE_SECONDS="20",
            PYTHONUNBUFFERED="1",
        )
        if redis_url:
            env["REDIS_URL"] = redis_url
        log = tmp_path / f"serve-{port}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [str(ROOT / ".venv" / "bin" / "portal"), "serve", "--port", str(port)],
                env=env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        server = Server(port, process, log, env["DATABASE_URL"])
        started.append(server)
        deadline = time.monotonic() + START_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"portal serve exited with {process.returncode}:\n{server.log_text()}")
            try:
                if server.get("/healthz")[0] == 200:
                    return server
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"portal serve did not answer within {START_SECONDS} s:\n{server.log_text()}")
            time.sleep(0.1)

    yield start
    for server in started:
        if server.process.poll() is None:
            server.process.kill()
        server.process.wait(timeout=10)


def test_readyz_is_503_while_the_database_is_unreachable_and_200_again_after(serve, tmp_path):
    if IS_POSTGRES:
        proxy = _proxy_for(DATABASE_URL)
        server = serve(database_url=_through(DATABASE_URL, proxy))
        cut, restore = proxy.cut, proxy.restore
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
    log = server.log_text()
    assert "not ready: database unavailable" in log
    assert "ready again (was: database unavailable)" in log
    assert "Redis" not in log


def test_readyz_is_503_while_redis_is_unreachable_and_200_again_after(serve):
    proxy = _proxy_for(REDIS_URL)
    try:
        server = serve(redis_url=_through(REDIS_URL, proxy))
        assert server.get("/readyz")[:2] == (200, "ready")
        proxy.cut()
        try:
            status, body, headers = server.wait_for("/readyz", 503)
            assert (status, body) == (503, "Redis unavailable")
            assert headers["retry-after"].isdigit()
        finally:
            proxy.restore()
        assert server.wait_for("/readyz", 200)[:2] == (200, "ready")
    finally:
        proxy.close()
    log = server.log_text()
    assert "not ready: Redis unavailable" in log
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
