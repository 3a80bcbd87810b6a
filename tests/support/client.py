"""The app under Litestar's test client: its settings, the clients, running database helpers from a
synchronous test on the right event loop, and forms posted the way a browser posts them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from src.settings import Settings, load_settings
from tests.support.environment import BASE_URL, DATABASE_URL, IS_POSTGRES, VAR_DIR
from tests.support.factories import STRONG_PASSWORD
from tests.support.pages import csrf_token


def make_settings(smtp_port: int, **overrides: Any) -> Settings:
    env = {
        "PORTAL_MODE": "development",
        "DATABASE_URL": DATABASE_URL,
        "VAR_DIR": str(VAR_DIR),
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


# Blocking portals of the open clients: their event loop owns the app's PostgreSQL pool.
_APP_LOOPS: list[Any] = []


@contextmanager
def open_client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    """A test client with the app's lifespan running; `run` uses its loop while it is open."""
    with TestClient(app, base_url=BASE_URL) as test_client:
        _APP_LOOPS.append(test_client.blocking_portal)
        try:
            yield test_client
        finally:
            _APP_LOOPS.remove(test_client.blocking_portal)


def second_client(app: Litestar, first: TestClient[Litestar]) -> TestClient[Litestar]:
    """A second browser (its own cookies) against the same app, on `first`'s event loop.

    It runs no lifespan of its own: a second loop would open a second PostgreSQL pool in the one
    engine and use connections across loops."""
    test_client = TestClient(app, base_url=BASE_URL)
    test_client.blocking_portal = first.blocking_portal
    return test_client


async def _awaited(coro: Any) -> Any:
    return await coro


def run(coro: Any) -> Any:
    """Run a database helper from a synchronous test. While a client is open it runs on the app's
    own loop: the PostgreSQL pool opened in the app's lifespan cannot be used from another loop."""
    if _APP_LOOPS:
        return _APP_LOOPS[0].call(_awaited, coro)
    return asyncio.run(coro)


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


def log_in(client: TestClient[Any], login: str, password: str = STRONG_PASSWORD) -> Any:
    response = post_form(client, "/login", {"login": login, "password": password})
    assert response.status_code == 303, response.text
    return response
