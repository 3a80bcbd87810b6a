"""A real `portal serve` process for a test, on a free port, with settings of its own: what a load
balancer talks to. The SQLite database is a copy of the suite's (a server may lose its file); on
PostgreSQL it serves the suite's database."""

from __future__ import annotations

import http.client
import os
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.environment import DATABASE_URL, IS_POSTGRES, free_port

ROOT = Path(__file__).resolve().parent.parent.parent
START_SECONDS = 60  # a start takes 1-2 s; the shared machine may be very busy
SETTLE_SECONDS = 15  # what a test waits for to show (readiness changes within ~3 s)

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


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    database_url: str

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
        with closing(http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)) as conn:
            conn.request("GET", path, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.read().decode(), {k.lower(): v for k, v in response.getheaders()}

    def wait_for(self, path: str, status: int) -> tuple[int, str, dict[str, str]]:
        """GET `path` until it answers `status` (or the time is up: the last answer)."""
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            answer = self.get(path)
            if answer[0] == status or time.monotonic() > deadline:
                return answer
            time.sleep(0.2)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_log(self, text: str) -> str:
        deadline = time.monotonic() + SETTLE_SECONDS
        while text not in (log := self.log_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        return log


def _sqlite_copy(folder: Path) -> str:
    copy = folder / "served.sqlite3"
    with closing(sqlite3.connect(DATABASE_URL.removeprefix("sqlite:///"))) as source:
        with closing(sqlite3.connect(copy)) as target:
            source.backup(target)
    return f"sqlite:///{copy}"


@contextmanager
def portal_servers(var_dir: Path, folder: Path) -> Iterator[Callable[..., Server]]:
    """`start(**settings)` starts a server (settings by their lower-case names, e.g.
    redis_url=…) and waits for /healthz; every server started is killed at the end."""
    started: list[Server] = []

    def start(**settings: str) -> Server:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if k not in DROPPED}
        env.update(
            PORTAL_MODE="development",
            VAR_DIR=str(var_dir),
            DATABASE_URL=DATABASE_URL if IS_POSTGRES else _sqlite_copy(folder),
            BASE_URL=f"http://127.0.0.1:{port}",
            ALLOWED_HOSTS=f"127.0.0.1:{port}",
            MAIL_DELIVERY="mailbox",
            RUN_MAIL_WORKER="false",
            DATABASE_POOL_MIN="1",
            DATABASE_POOL_MAX="2",
            PYTHONUNBUFFERED="1",
        )
        env.update({name.upper(): value for name, value in settings.items()})
        log = folder / f"serve-{port}.log"
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

    try:
        yield start
    finally:
        for server in started:
            if server.process.poll() is None:
                server.process.kill()
            server.process.wait(timeout=10)
