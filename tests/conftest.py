"""Test set-up: a fresh database (SQLite by default, PostgreSQL when TEST_DATABASE_URL says so),
a real SMTP server (aiosmtpd) that receives every email, and the app under Litestar's test client.

The database engine is chosen when the tables are imported, so the environment is set here first.
Each test starts from empty tables (no per-test rollback: the app runs on another event loop).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import queue
import re
import shutil
import socket
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

_TMP = Path(tempfile.mkdtemp(prefix="portal-tests-"))
_DB_URL = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{_TMP / 'test.sqlite3'}"
os.environ["DATABASE_URL"] = _DB_URL
os.environ["VAR_DIR"] = str(_TMP)
os.environ.pop("REDIS_URL", None)
os.environ.setdefault("PORTAL_MODE", "development")

from aiosmtpd.controller import Controller  # noqa: E402
from litestar import Litestar  # noqa: E402
from litestar.testing import TestClient  # noqa: E402
from selectolax.lexbor import LexborHTMLParser as HTMLParser  # noqa: E402

from src.app import create_app  # noqa: E402
from src.settings import Settings, load_settings  # noqa: E402
from src.tables.piccolo_app import APP_CONFIG  # noqa: E402

BASE_URL = "http://testserver.local"
IS_POSTGRES = _DB_URL.startswith("postgres")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _prepare_postgres(url: str) -> None:
    import asyncpg

    base, _, name = url.rpartition("/")
    conn = await asyncpg.connect(f"{base}/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def pytest_sessionstart(session: pytest.Session) -> None:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    async def setup() -> None:
        if IS_POSTGRES:
            await _prepare_postgres(_DB_URL)
        result = await run_forwards(app_name="all")
        assert result.success, result.message

    asyncio.run(setup())


# --- real SMTP server -------------------------------------------------------------------------


@dataclass
class Mailbox:
    """Messages received by the test SMTP server, in arrival order."""

    received: queue.Queue[EmailMessage] = field(default_factory=queue.Queue)

    def wait_for(
        self, to: str | None = None, subject: str | None = None, timeout: float = 10
    ) -> EmailMessage:
        """The next message (matching to/subject) that arrives within timeout; fails otherwise."""
        skipped = []
        try:
            while True:
                message = self.received.get(timeout=timeout)
                if (to is None or to.lower() in message["To"].lower()) and (
                    subject is None or subject.lower() in message["Subject"].lower()
                ):
                    return message
                skipped.append(message)
        except queue.Empty:
            summary = [(m["To"], m["Subject"]) for m in skipped]
            raise AssertionError(
                f"no email to={to!r} subject={subject!r} within {timeout}s; got {summary}"
            ) from None
        finally:
            for message in skipped:
                self.received.put(message)

    def drain(self) -> list[EmailMessage]:
        out = []
        while not self.received.empty():
            out.append(self.received.get_nowait())
        return out


class _Handler:
    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.mailbox.received.put(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


class SMTPServer:
    def __init__(self) -> None:
        self.mailbox = Mailbox()
        self.port = _free_port()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(_Handler(self.mailbox), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SMTPServer]:
    server = SMTPServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mailbox(smtp_server: SMTPServer) -> Mailbox:
    if smtp_server.controller is None:
        smtp_server.start()
    smtp_server.mailbox.drain()
    return smtp_server.mailbox


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content()  # type: ignore[no-any-return]


def link_in(message: EmailMessage, path_prefix: str) -> str:
    """The path of the first link in the email's text part that starts with BASE_URL + path_prefix."""
    match = re.search(re.escape(BASE_URL) + r"(" + re.escape(path_prefix) + r"[^\s]*)", text_of(message))
    assert match, f"no {path_prefix} link in: {text_of(message)}"
    return match.group(1)


# --- database and app -------------------------------------------------------------------------


async def _empty_tables() -> None:
    for table in reversed(APP_CONFIG.table_classes):
        await table.delete(force=True)


@pytest.fixture(autouse=True)
def clean_db() -> None:
    asyncio.run(_empty_tables())
    # Sessions and throttle counters live in file stores under VAR_DIR; one test's failed log-ins
    # or sent forms must not count against the next test.
    shutil.rmtree(_TMP / "store", ignore_errors=True)


def make_settings(smtp_port: int, **overrides: Any) -> Settings:
    env = {
        "PORTAL_MODE": "development",
        "DATABASE_URL": _DB_URL,
        "VAR_DIR": str(_TMP),
        "BASE_URL": BASE_URL,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "MAIL_DELIVERY": "smtp",
        "MAIL_POLL_SECONDS": "0.05",
        # Tests run the reminder job themselves (src.connections.send_reminders) when they mean to.
        "REMINDER_INTERVAL_SECONDS": "86400",
        # No PostgreSQL pool in the in-process tests: Litestar's test client runs each app on its own
        # event loop (and `other_client` on another), and an asyncpg pool belongs to one loop. Every
        # query opens its own connection instead; tests/test_db_pool.py checks the pool itself.
        # SQLite's pool serves any loop, so the tests run on it, as production does.
        "DATABASE_POOL_MAX": "0" if IS_POSTGRES else "4",
        "SMTP_TIMEOUT": "3",
    }
    env.update({k.upper(): str(v) for k, v in overrides.items()})
    return load_settings(env)


@pytest.fixture
def settings(smtp_server: SMTPServer) -> Settings:
    return make_settings(smtp_server.port)


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings)


# Blocking portals of the open `client`s: their event loop owns the app's PostgreSQL pool.
_APP_LOOPS: list[Any] = []


@pytest.fixture
def client(app: Litestar, mailbox: Mailbox) -> Iterator[TestClient[Litestar]]:
    with TestClient(app, base_url=BASE_URL) as test_client:
        _APP_LOOPS.append(test_client.blocking_portal)
        try:
            yield test_client
        finally:
            _APP_LOOPS.remove(test_client.blocking_portal)


@pytest.fixture
def other_client(app: Litestar, client: TestClient[Litestar]) -> Iterator[TestClient[Litestar]]:
    """A second browser against the same app (another person, or the same person elsewhere).

    It shares `client`'s event loop and runs no lifespan of its own: a second loop would open a
    second PostgreSQL pool in the one engine and use connections across loops."""
    test_client = TestClient(app, base_url=BASE_URL)
    test_client.blocking_portal = client.blocking_portal
    yield test_client


async def _awaited(coro: Any) -> Any:
    return await coro


def run(coro: Any) -> Any:
    """Run a database helper from a synchronous test. While a `client` is open it runs on the app's
    own loop: the PostgreSQL pool opened in the app's lifespan cannot be used from another loop."""
    if _APP_LOOPS:
        return _APP_LOOPS[0].call(_awaited, coro)
    return asyncio.run(coro)


# --- HTML and forms ---------------------------------------------------------------------------


def html(response: Any) -> HTMLParser:
    return HTMLParser(response.text)


def csrf_token(client: TestClient[Any], path: str = "/login") -> str:
    page = client.get(path)
    node = html(page).css_first('input[name="_csrf_token"]')
    assert node is not None, f"no CSRF field on {path}"
    return node.attributes["value"] or ""


def post_form(
    client: TestClient[Any],
    path: str,
    data: dict[str, str],
    htmx: bool = False,
    token_from: str = "/login",
    **kwargs: Any,
) -> Any:
    """Post a form the way a browser would: with the CSRF field from a page of the site."""
    body = {"_csrf_token": csrf_token(client, token_from), **data}
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(path, data=body, headers=headers, follow_redirects=False, **kwargs)


def errors_on(response: Any) -> dict[str, str]:
    """Inline field errors on a page: {field id: message} from the GOV.UK-style markup."""
    found = {}
    for node in html(response).css(".error-message"):
        found[(node.attributes.get("id") or "").removesuffix("-error")] = (
            node.text(strip=True).removeprefix("Error:").strip()
        )
    return found


STRONG_PASSWORD = "correct-lantern-meadow-piano"
OTHER_PASSWORD = "violet-harbour-stone-kettle"


async def make_account(
    role: str = "third_party",
    username: str = "tess",
    email_address: str | None = None,
    password: str | None = STRONG_PASSWORD,
    verified: bool = True,
    **extra: Any,
) -> Any:
    from src import accounts
    from src.tables.accounts import Role

    return await accounts.create_account(
        accounts.NewAccount(
            role=Role(role),
            username=username,
            email=email_address or f"{username}@example.com",
            first_name=extra.pop("first_name", username.capitalize()),
            last_name=extra.pop("last_name", "Tester"),
            password=password,
            verified=verified,
            **extra,
        )
    )


def log_in(client: TestClient[Any], login: str, password: str = STRONG_PASSWORD) -> Any:
    response = post_form(client, "/login", {"login": login, "password": password})
    assert response.status_code == 303, response.text
    return response


# --- small page readers shared by the test modules ---------------------------------------------


def heading(response: Any) -> str:
    return html(response).css_first("main h1").text(strip=True)


def notices(response: Any) -> list[str]:
    return [node.text(strip=True) for node in html(response).css("main .notice")]


def is_logged_in(client: TestClient[Any]) -> bool:
    response = client.get("/dashboard", follow_redirects=False)
    if response.status_code == 200:
        return True
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")
    return False


@pytest.fixture
def day(settings: Settings) -> Any:
    """Today's date where the portal is (its TIME_ZONE)."""
    from src.clock import today_in

    return today_in(settings.tz)
