"""Test set-up: a fresh database (SQLite by default, PostgreSQL when TEST_DATABASE_URL says so),
a real SMTP server (aiosmtpd) that receives every email, and the app under Litestar's test client.

This file only wires fixtures; what they use lives in tests/support/. The database engine is chosen
when the tables are imported, so the environment is set here first, before anything imports `src`.
Each test starts from empty tables (no per-test rollback: the app runs on another event loop).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

_TMP = Path(tempfile.mkdtemp(prefix="portal-tests-"))
os.environ["DATABASE_URL"] = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{_TMP / 'test.sqlite3'}"
os.environ["VAR_DIR"] = str(_TMP)
os.environ.pop("REDIS_URL", None)
os.environ.setdefault("PORTAL_MODE", "development")

from litestar import Litestar  # noqa: E402
from litestar.testing import TestClient  # noqa: E402

from src import db  # noqa: E402
from src.app import create_app, db_timeouts  # noqa: E402
from src.clock import today_in  # noqa: E402
from src.settings import Settings  # noqa: E402
from src.tables.accounts import Account  # noqa: E402
from tests.support import clocks, factories  # noqa: E402
from tests.support.cleaning import start_clean  # noqa: E402
from tests.support.client import deliver, fresh_client, log_in, make_settings, open_client, run, share_loop  # noqa: E402
from tests.support.environment import DATABASE_URL, IS_POSTGRES  # noqa: E402
from tests.support.smtp import Mailbox, SMTPServer  # noqa: E402

# --- the session: an empty database with every migration applied ------------------------------


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
            await _prepare_postgres(DATABASE_URL)
        result = await run_forwards(app_name="all")
        assert result.success, result.message

    asyncio.run(setup())


# --- the shared loop, mail, and the session's app ----------------------------------------------------


@pytest.fixture(scope="session")
def shared_loop() -> Iterator[None]:
    with share_loop():
        yield


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SMTPServer]:
    server = SMTPServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def default_settings(smtp_server: SMTPServer) -> Settings:
    return make_settings(smtp_server.port)


@pytest.fixture(scope="session")
def session_app(shared_loop: None, default_settings: Settings) -> Iterator[Litestar]:
    """One app for every test that runs with the default settings, its lifespan (the database pool)
    running for the whole session, as in a server process."""
    app = create_app(default_settings)
    # Templates do not change while the suite runs: compiled once and alike pages kept, as in
    # production (src/htmx.py, AlikePage; `portal serve` in development, as the browser journeys
    # run it, renders every page anew).
    app.template_engine.engine.auto_reload = False  # type: ignore[union-attr]
    with open_client(app) as holder:
        yield holder.app


@pytest.fixture(autouse=True)
def clean_db(request: pytest.FixtureRequest, session_app: Litestar) -> None:
    """Empty tables and stores before each test that uses them (engine-free modules are marked).
    Through the session app's pool: it is open from the first test to the last."""
    if request.node.get_closest_marker("browser") or request.node.get_closest_marker("engine_free"):
        return
    start_clean()


@pytest.fixture
def own_pool(session_app: Litestar, default_settings: Settings) -> Iterator[None]:
    """The session app's database pool closed for this test, so an app the test makes opens its own
    (with its own settings) in its lifespan and closes it; opened again afterwards."""
    run(db.close_pool())
    yield
    run(
        db.open_pool(
            default_settings.db_pool_min, default_settings.db_pool_max, db_timeouts(default_settings)
        )
    )


@pytest.fixture
def mailbox(smtp_server: SMTPServer) -> Iterator[Mailbox]:
    if smtp_server.controller is None:
        smtp_server.start()
    smtp_server.mailbox.drain()
    yield smtp_server.mailbox
    smtp_server.mailbox.deliverer = None


# --- the app and its clients ---------------------------------------------------------------------


@pytest.fixture
def settings(request: pytest.FixtureRequest, smtp_server: SMTPServer, default_settings: Settings) -> Settings:
    """The suite's settings; a test may pass overrides (and `smtp_port`) by indirect parametrization."""
    overrides = dict(getattr(request, "param", {}))
    if not overrides:
        return default_settings
    return make_settings(overrides.pop("smtp_port", smtp_server.port), **overrides)


@pytest.fixture
def app(settings: Settings, default_settings: Settings, session_app: Litestar) -> Iterator[Litestar]:
    """The session's app for the default settings; an app of its own (lifespan and all) otherwise."""
    if settings is default_settings:
        yield session_app
        return
    with open_client(create_app(settings)) as holder:
        yield holder.app


@pytest.fixture
def client(app: Litestar, mailbox: Mailbox) -> Iterator[TestClient[Litestar]]:
    """A browser of its own against the app; mail the app queues is sent when the test looks for it."""
    if not app.state.settings.run_mail_worker:
        mailbox.deliverer = lambda: deliver(app)
    yield fresh_client(app)


@pytest.fixture
def other_client(app: Litestar, client: TestClient[Litestar]) -> TestClient[Litestar]:
    """A second browser against the same app (another person, or the same person elsewhere)."""
    return fresh_client(app)


# --- dates and clocks ----------------------------------------------------------------------------


@pytest.fixture
def day(settings: Settings) -> Any:
    """Today's date where the portal is (its TIME_ZONE)."""
    return today_in(settings.tz)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """The session clock (src.clock.seconds, read by src.auth only), moved forward by setting `clock.minutes`."""
    return clocks.session_clock(monkeypatch)


@pytest.fixture
def clock_ahead(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """itsdangerous's clock (only), moved forward by setting `clock_ahead.seconds`."""
    return clocks.link_clock(monkeypatch)


# --- people ---------------------------------------------------------------------------------------


@pytest.fixture
def people(client: TestClient[Litestar]) -> factories.People:
    """Two learners, two third parties and a member of staff (see factories.prepare_people)."""
    return run(factories.prepare_people())  # type: ignore[no-any-return]


@pytest.fixture
def lena(client: TestClient[Litestar]) -> Account:
    """Lena Lovelace, a learner, logged in on `client`."""
    account = run(
        factories.make_account("learner", "lena", password=None, first_name="Lena", last_name="Lovelace")
    )
    run(factories.with_fast_password(account))
    log_in(client, "lena")
    return account


@pytest.fixture
def tess(client: TestClient[Litestar]) -> Account:
    """Tess Turner of Acme Care, a third party (user name "Tess", tess@example.com), not logged in."""
    account = run(
        factories.make_account(
            "third_party",
            "Tess",
            email_address="tess@example.com",
            password=None,
            first_name="Tess",
            last_name="Turner",
            company_name="Acme Care",
        )
    )
    run(factories.with_fast_password(account))
    return account
