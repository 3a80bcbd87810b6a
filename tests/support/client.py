"""The app under Litestar's test client: its settings, the clients, running database helpers from a
synchronous test on the right event loop, and forms posted the way a browser posts them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from anyio.from_thread import BlockingPortal, start_blocking_portal
from litestar import Litestar
from litestar.testing import TestClient
from litestar.testing.client.base import BaseTestClient

from src.mail import send_due
from src.settings import Settings, load_settings
from tests.support.environment import BASE_URL, DATABASE_URL, VAR_DIR
from tests.support.factories import STRONG_PASSWORD
from tests.support.pages import csrf_token
from tests.support.two_step import fresh_code


def make_settings(smtp_port: int, **overrides: Any) -> Settings:
    env = {
        "PORTAL_MODE": "development",
        "DATABASE_URL": DATABASE_URL,
        "VAR_DIR": str(VAR_DIR),
        "BASE_URL": BASE_URL,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "MAIL_DELIVERY": "smtp",
        # No mail worker polling inside request tests: `deliver` sends what is due when a test looks
        # for mail (tests/support/smtp.py), so "no more mail" needs no waiting.
        "RUN_MAIL_WORKER": "false",
        "MAIL_POLL_SECONDS": "0.05",
        # Tests run the reminder job themselves (src.connections.send_reminders) when they mean to.
        "REMINDER_INTERVAL_SECONDS": "86400",
        # Every app of the suite runs on the one shared event loop (see share_loop), so the pool the
        # session's app opens serves every test, on PostgreSQL as in production.
        "DATABASE_POOL_MIN": "1",
        "DATABASE_POOL_MAX": "4",
        "SMTP_TIMEOUT": "3",
    }
    env.update({k.upper(): str(v) for k, v in overrides.items()})
    return load_settings(env)


# The suite's one event loop, in a thread of its own (anyio's blocking portal). Every app's lifespan,
# every request of every test client and every `run(...)` use it, as one server process would: the
# database pool, the password-hashing queue and the mail worker all belong to one loop.
_SHARED: list[BlockingPortal] = []


@contextmanager
def share_loop() -> Iterator[BlockingPortal]:
    """Start the shared loop and make every Litestar test client use it (for the whole session)."""
    original = BaseTestClient.portal

    @contextmanager
    def shared_portal(self: BaseTestClient[Any]) -> Iterator[BlockingPortal]:
        yield getattr(self, "blocking_portal", None) or _SHARED[0]

    with start_blocking_portal() as portal:
        _SHARED.append(portal)
        BaseTestClient.portal = shared_portal  # type: ignore[method-assign,assignment]
        try:
            yield portal
        finally:
            BaseTestClient.portal = original  # type: ignore[method-assign]
            _SHARED.clear()


@contextmanager
def open_client(app: Litestar, **kwargs: Any) -> Iterator[TestClient[Litestar]]:
    """A test client with the app's lifespan running (on the shared loop) while it is open."""
    with TestClient(app, base_url=BASE_URL, **kwargs) as test_client:
        yield test_client


def fresh_client(app: Litestar, **kwargs: Any) -> TestClient[Litestar]:
    """A browser of its own (its own cookies) against an app whose lifespan is already running."""
    return TestClient(app, base_url=BASE_URL, **kwargs)


@contextmanager
def browsing(app: Litestar, **kwargs: Any) -> Iterator[TestClient[Litestar]]:
    """`fresh_client` as a `with` block: a client of the app, not a second run of its lifespan (the
    session's app already runs one; a second on the same app would stop the shared loop with it)."""
    yield fresh_client(app, **kwargs)


def second_client(app: Litestar, first: TestClient[Litestar]) -> TestClient[Litestar]:
    """A second browser (its own cookies) against the same app."""
    return fresh_client(app)


async def _awaited(coro: Any) -> Any:
    return await coro


def run(coro: Any) -> Any:
    """Run a database helper (or a TCP proxy's cut and restore) from a synchronous test, on the shared
    loop (the pool's own)."""
    if _SHARED:
        return _SHARED[0].call(_awaited, coro)
    return asyncio.run(coro)


def deliver(app: Litestar) -> int:
    """Send every email that is due, now, as the app's mail worker would (real SMTP); how many."""
    settings = app.state.settings
    sent = total = run(send_due(app.template_engine, settings))
    while sent:
        sent = run(send_due(app.template_engine, settings))
        total += sent
    return total  # type: ignore[no-any-return]


def _cookie(client: TestClient[Any], name: str) -> str | None:
    for cookie in client.cookies.jar:
        if cookie.name in (name, f"__Host-{name}"):
            return cookie.value
    return None


def form_token(client: TestClient[Any], token_from: str = "/login") -> str:
    """The CSRF token a form of the site would carry: the one this browser was last given, while it
    still holds (the same session and token cookies as when a page was fetched); otherwise fetched
    from `token_from`. A token is signed for the session it was given in: log-in and log-out change
    the session cookie, and so fetch a new one."""
    state = (_cookie(client, "portal_session"), _cookie(client, "portal_csrf"))
    known = getattr(client, "_portal_form_token", None)
    if known is not None and known[0] == state:
        return known[1]  # type: ignore[no-any-return]
    token = csrf_token(client, token_from)
    client._portal_form_token = (  # type: ignore[attr-defined]
        (_cookie(client, "portal_session"), _cookie(client, "portal_csrf")),
        token,
    )
    return token


def post_form(
    client: TestClient[Any],
    path: str,
    data: dict[str, str],
    htmx: bool = False,
    token_from: str = "/login",
    **kwargs: Any,
) -> Any:
    """Post a form the way a browser would: with the CSRF field from a page of the site."""
    body = {"_csrf_token": form_token(client, token_from), **data}
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(path, data=body, headers=headers, follow_redirects=False, **kwargs)


def log_in(client: TestClient[Any], login: str, password: str = STRONG_PASSWORD) -> Any:
    """Log in as a person would, with the second step too when the account has an authenticator
    (tests.support.two_step): the last answer, a 303 to where the log-in goes."""
    response = post_form(client, "/login", {"login": login, "password": password})
    assert response.status_code == 303, response.text
    code = run(fresh_code(login)) if response.headers["location"].startswith("/login/second-step") else None
    if code is not None:
        response = post_form(client, "/login/second-step", {"code": code})
        assert response.status_code == 303, response.text
    return response
