"""Ending a session is final while other requests of the same session are in flight, and a request
that did not change its session does not write it back (file store and Redis)."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import redis
from litestar.stores.base import Store
from litestar.testing import TestClient

import src.auth
from src.app import create_app
from tests.support.client import log_in, make_settings, run
from tests.support.environment import BASE_URL, REDIS_URL
from tests.support.factories import make_account
from tests.support.pages import csrf_token, is_logged_in

IN_FLIGHT = 10


def _redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.exceptions.ConnectionError:
        return False


class RecordingStore(Store):
    """The app's own session store, recording writes; `hold_writes_of` makes write-backs of that
    session wait until it has been deleted (the log-out), the worst order for a log-out."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.writes: list[str] = []
        self.hold_writes_of: str | None = None
        self._deleted: asyncio.Event | None = None

    def _event(self) -> asyncio.Event:
        if self._deleted is None:
            self._deleted = asyncio.Event()
        return self._deleted

    async def set(self, key: str, value: str | bytes, expires_in: Any = None) -> None:
        self.writes.append(key)
        if key == self.hold_writes_of:
            async with asyncio.timeout(30):  # a safety net against a hang, not a timed assertion
                await self._event().wait()
        await self.inner.set(key, value, expires_in=expires_in)

    async def get(self, key: str, renew_for: Any = None) -> bytes | None:
        return await self.inner.get(key, renew_for=renew_for)

    async def delete(self, key: str) -> None:
        await self.inner.delete(key)
        if key == self.hold_writes_of:
            self._event().set()

    async def delete_all(self) -> None:
        await self.inner.delete_all()

    async def get_session(self, key: str) -> tuple[bytes | None, bool]:
        # The app's stores read a session and its "ended" marker together (src/sessions.py): the
        # same read, so the tests below hold that read to the log-out.
        return await self.inner.get_session(key)  # type: ignore[attr-defined,no-any-return]

    async def exists(self, key: str) -> bool:
        return await self.inner.exists(key)

    async def expires_in(self, key: str) -> int | None:
        return await self.inner.expires_in(key)


@pytest.fixture(params=["file", "redis"])
def store_app(request, smtp_server, mailbox):
    overrides = {}
    if request.param == "redis":
        if not _redis_up() and not os.environ.get("CI"):
            pytest.skip(f"no Redis at {REDIS_URL}")
        redis.Redis.from_url(REDIS_URL).flushdb()
        overrides["redis_url"] = REDIS_URL
    app = create_app(make_settings(smtp_server.port, **overrides))
    store = RecordingStore(app.stores.get("sessions"))
    app.stores.register("sessions", store, allow_override=True)
    with TestClient(app, base_url=BASE_URL) as client:
        yield app, store, client
    if request.param == "redis":
        redis.Redis.from_url(REDIS_URL).flushdb()


def _browser(app: Any, client: TestClient[Any], cookies: dict[str, str]) -> TestClient[Any]:
    """Another tab of the same browser: same cookies, on the app's running event loop."""
    tab = TestClient(app, base_url=BASE_URL, cookies=cookies)
    tab.blocking_portal = client.blocking_portal
    return tab


def test_page_loads_that_change_nothing_do_not_write_the_session(store_app):
    _, store, client = store_app
    run(make_account(username="rhea"))
    log_in(client, "rhea")
    session_id = client.cookies["portal_session"]
    client.get("/dashboard")  # shows (and so removes) the flash the log-in left: a change
    store.writes.clear()
    for _ in range(3):
        response = client.get("/dashboard", follow_redirects=False)
        assert response.status_code == 200
        assert "portal_session" not in response.headers.get("set-cookie", "")
    assert session_id not in store.writes


def test_log_out_sticks_while_page_loads_of_the_same_session_write_it_back(store_app, monkeypatch):
    app, store, client = store_app
    # Every page load refreshes "seen", so each one in flight writes its copy of the session back.
    monkeypatch.setattr(src.auth, "SEEN_REFRESH_SECONDS", -1)
    run(make_account(username="rhea"))
    log_in(client, "rhea")
    token = csrf_token(client, "/dashboard")
    cookies = dict(client.cookies)
    store.hold_writes_of = cookies["portal_session"]
    tabs = [_browser(app, client, cookies) for _ in range(IN_FLIGHT + 1)]

    def load(tab: TestClient[Any]) -> int:
        return tab.get("/dashboard", follow_redirects=False).status_code

    with ThreadPoolExecutor(IN_FLIGHT) as pool:
        loads = [pool.submit(load, tab) for tab in tabs[:IN_FLIGHT]]
        logged_out = tabs[IN_FLIGHT].post("/logout", data={"_csrf_token": token}, follow_redirects=False)
        statuses = [future.result() for future in loads]
    assert logged_out.status_code == 303
    assert set(statuses) <= {200, 303}
    # The write-backs of the old session did happen after the log-out (the race really ran) ...
    assert store.writes.count(cookies["portal_session"]) >= 1
    # ... and yet the old cookie is logged out, in this tab and in any other.
    assert not is_logged_in(_browser(app, client, cookies))
    assert not is_logged_in(tabs[0])
