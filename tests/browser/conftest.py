"""Browser tests: Debian's Chromium (driven by Playwright) against the real `portal serve` process.

The server gets its own VAR_DIR and SQLite file, whatever database the rest of the suite uses, and
keeps every email for the development mailbox page (/dev/mailbox), where the journeys read them.
Each test runs twice: with JavaScript on (htmx at work) and off (plain forms, POST then redirect).
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Route, sync_playwright

from tests.browser.seed import SeedAccount, request_line
from tests.support.environment import free_port

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags Chromium keeps calling home on a closed network.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 360, "height": 740}
# Importing and starting the app takes ~2 s on an idle machine, but close to 30 s on a busy shared one.
SERVER_START_SECONDS = 90
# What a seeding request may take, the first one with the seeding process's imports (as a one-off
# script was given).
SEED_SECONDS = 60
# Settings a developer's shell may carry that must not reach the test server (it gets its own below).
INHERITED_SETTINGS_DROPPED = {
    "REDIS_URL",
    "SECRET_KEYS",
    "SIGNING_KEYS",
    "PORT",
    "HOST",
    "WEB_CONCURRENCY",
    "RUN_MAIL_WORKER",
    "ALLOWED_HOSTS",
    "TEST_DATABASE_URL",
    "SMTP_HOST",
    "SMTP_PORT",
    "SMTP_USER",
    "SMTP_PASSWORD",
    "SMTP_TLS",
}


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects, so `-m "not browser"` leaves these out
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    browser = []
    for item in items:
        if HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)
            # The runs with JavaScript off are a marked half: `make test` gives them to its other run.
            callspec = getattr(item, "callspec", None)
            if callspec is not None and callspec.params.get("javascript_enabled") is False:
                item.add_marker(pytest.mark.no_javascript)
            browser.append(item)
    # Browser tests run last: Playwright's sync API keeps an event loop running in the main thread
    # for the rest of the session, and the in-process tests need asyncio.run() there.
    others = [item for item in items if item not in browser]
    items[:] = others + browser


# --- the real server ----------------------------------------------------------------------------


def _portal_command() -> str:
    venv_portal = ROOT / ".venv" / "bin" / "portal"
    found = str(venv_portal) if venv_portal.exists() else shutil.which("portal")
    if not found:
        pytest.fail("the `portal` command is not installed (pip install -e '.[test]')")
    return found


def _server_env(var_dir: Path, base_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in INHERITED_SETTINGS_DROPPED}
    env.update(
        PORTAL_MODE="development",
        VAR_DIR=str(var_dir),
        DATABASE_URL=f"sqlite:///{var_dir / 'browser.sqlite3'}",
        MAIL_DELIVERY="mailbox",
        BASE_URL=base_url,
        MAIL_POLL_SECONDS="0.2",
        PYTHONUNBUFFERED="1",
    )
    return env


def _wait_until_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"portal serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"portal serve did not answer {url} within {SERVER_START_SECONDS}s:\n{log.read_text()}")


@dataclass(frozen=True)
class Server:
    url: str
    env: dict[str, str]  # what the server runs with: its DATABASE_URL, VAR_DIR and the rest


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    """`portal migrate` then `portal serve` on a free port."""
    var_dir = Path(tempfile.mkdtemp(prefix="portal-browser-"))
    port = free_port()
    # "localhost", not 127.0.0.1: WebAuthn refuses an IP address as the relying-party id (passkeys).
    url = f"http://localhost:{port}"
    env = _server_env(var_dir, url)
    portal = _portal_command()
    migrated = subprocess.run(
        [portal, "migrate"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert migrated.returncode == 0, f"portal migrate failed:\n{migrated.stdout}\n{migrated.stderr}"
    log = var_dir / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [portal, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_healthy(f"{url}/healthz", process, log)
        yield Server(url, env)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        shutil.rmtree(var_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def base_url(server: Server) -> str:
    return server.url


class Seeder:
    """The session's one seeding process (tests/browser/seed.py), in the server's environment: it
    writes to the server's database. `call` sends it one request and waits for the answer."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.browser.seed"],
                env=env,
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
            )

    def call(self, operation: str, *args: Any) -> Any:
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        stdin.write(request_line(operation, *args))
        stdin.flush()
        # As long as a one-off script was given: the first request also waits for the imports.
        ready, _, _ = select.select([stdout], [], [], SEED_SECONDS)
        line = stdout.readline() if ready else ""
        if not line:
            pytest.fail(
                f"the seeding process did not answer {operation} within {SEED_SECONDS} s:\n{self.log.read_text()}"
            )
        answer = json.loads(line)
        assert "error" not in answer, f"seeding ({operation}) failed:\n{answer['error']}"
        return answer["ok"]

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()  # end of input: the loop ends
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


@pytest.fixture(scope="session")
def seeder(server: Server) -> Iterator[Seeder]:
    """Seed data in the server's database (see tests/browser/seed.py for what it can make)."""
    started = Seeder(server.env, Path(server.env["VAR_DIR"]) / "seed.log")
    yield started
    started.close()


@pytest.fixture
def create_accounts(seeder: Seeder) -> Callable[..., None]:
    """Make accounts (and a learner's documents) in the server's database, for pages with no UI to do so."""

    def create(*people: SeedAccount) -> None:
        seeder.call("accounts", *people)

    return create


# --- the browser --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM} (apt-get install chromium, or set CHROMIUM)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(params=[True, False], ids=["js", "no-js"])
def javascript_enabled(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@dataclass
class Console:
    """Errors the page reported: console errors (CSP violations among them) and uncaught exceptions."""

    errors: list[str] = field(default_factory=list)

    def listen(self, page: Page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))

    def _on_console(self, message: ConsoleMessage) -> None:
        # Validation answers are 422 by design (htmx swaps them); Chromium logs any 4xx as an error.
        if message.type == "error" and "status of 422" not in message.text:
            self.errors.append(f"{message.text} ({message.location.get('url', '')})")


def _new_context(browser: Browser, base_url: str, javascript_enabled: bool) -> BrowserContext:
    ctx = browser.new_context(
        base_url=base_url, viewport=VIEWPORT, java_script_enabled=javascript_enabled, locale="en-GB"
    )
    ctx.set_default_timeout(10_000)
    return ctx


@pytest.fixture
def context(browser: Browser, base_url: str, javascript_enabled: bool) -> Iterator[BrowserContext]:
    ctx = _new_context(browser, base_url, javascript_enabled)
    yield ctx
    ctx.close()


@pytest.fixture
def new_person_page(
    browser: Browser, base_url: str, javascript_enabled: bool, console: Console
) -> Iterator[Callable[[], Page]]:
    """For journeys with two people: each call opens a page in a context of its own (its own session)."""
    contexts: list[BrowserContext] = []

    def open_page() -> Page:
        contexts.append(_new_context(browser, base_url, javascript_enabled))
        opened = contexts[-1].new_page()
        console.listen(opened)
        return opened

    yield open_page
    for ctx in contexts:
        ctx.close()


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def page(context: BrowserContext, console: Console) -> Page:
    new_page = context.new_page()
    console.listen(new_page)
    return new_page


# --- checks every visited page gets --------------------------------------------------------------


class Auditor:
    """axe-core and the 360 px no-horizontal-scroll check, for pages with or without JavaScript.

    axe runs inside the page, which needs script execution: with JavaScript off, the exact HTML the
    browser shows is served again, scripts blocked, to a JavaScript-enabled page of the same origin
    (so the real stylesheet applies) and audited there.
    """

    def __init__(self, browser: Browser, base_url: str, javascript_enabled: bool) -> None:
        self.browser = browser
        self.base_url = base_url
        self.javascript_enabled = javascript_enabled
        self.axe = Axe()
        self._mirror: Page | None = None
        self.audited: list[str] = []

    def check(self, page: Page) -> None:
        path = page.url.removeprefix(self.base_url)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= VIEWPORT["width"], f"{path} scrolls sideways at 360px: scrollWidth {width}"
        target = page if self.javascript_enabled else self._mirror_of(page)
        results = self.axe.run(target)
        assert results.violations_count == 0, f"axe on {path}:\n{results.generate_report()}"
        self.audited.append(path)

    def _mirror_of(self, page: Page) -> Page:
        if self._mirror is None:
            ctx = self.browser.new_context(base_url=self.base_url, viewport=VIEWPORT, locale="en-GB")
            self._mirror = ctx.new_page()
        html = page.content()
        url = page.url.split("#")[0]

        def serve(route: Route) -> None:
            if route.request.resource_type == "script":
                route.abort()
            elif route.request.url == url and route.request.resource_type == "document":
                route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)
            else:
                route.continue_()

        self._mirror.unroute("**/*")
        self._mirror.route("**/*", serve)
        self._mirror.goto(url)
        return self._mirror

    def close(self) -> None:
        if self._mirror is not None:
            self._mirror.context.close()


@pytest.fixture
def audit(browser: Browser, base_url: str, javascript_enabled: bool) -> Iterator[Auditor]:
    auditor = Auditor(browser, base_url, javascript_enabled)
    yield auditor
    auditor.close()
