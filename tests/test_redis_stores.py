"""With REDIS_URL set, sessions and throttles live in Redis, so several app processes (here: two
app instances that share nothing in memory) see the same log-ins and the same counts."""

from __future__ import annotations

import os

import pytest
import redis
from litestar.testing import TestClient

from src.app import create_app
from src.routes.session import IP_FAILURES_LIMIT
from tests.support.client import log_in, make_settings, post_form, run
from tests.support.environment import BASE_URL, REDIS_URL
from tests.support.factories import make_account
from tests.support.pages import html


def _redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.exceptions.ConnectionError:
        return False


pytestmark = pytest.mark.skipif(
    not _redis_up() and not os.environ.get("CI"),
    reason=f"no Redis at {REDIS_URL}; .ci/run starts one (in CI this test never skips)",
)


@pytest.fixture
def two_apps(smtp_server, mailbox):
    redis.Redis.from_url(REDIS_URL).flushdb()
    settings = make_settings(smtp_server.port, redis_url=REDIS_URL)
    first, second = create_app(settings), create_app(settings)
    with TestClient(first, base_url=BASE_URL) as a, TestClient(second, base_url=BASE_URL) as b:
        yield a, b
    redis.Redis.from_url(REDIS_URL).flushdb()


def test_a_session_made_by_one_process_is_valid_in_another(two_apps):
    a, b = two_apps
    run(make_account(username="rhea"))
    log_in(a, "rhea")
    b.cookies.update(a.cookies)
    response = b.get("/dashboard", follow_redirects=False)
    assert response.status_code == 200
    assert html(response).css_first("h1").text(strip=True) == "Hello, Rhea"
    keys = redis.Redis.from_url(REDIS_URL).keys("portal*sessions*")
    assert keys, "the session was not stored in Redis"


def test_log_out_in_one_process_ends_the_session_in_the_other(two_apps):
    a, b = two_apps
    run(make_account(username="rhea"))
    log_in(a, "rhea")
    b.cookies.update(a.cookies)
    post_form(a, "/logout", {}, token_from="/dashboard")
    # b still holds the session id from before the log-out
    response = b.get("/dashboard", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_failed_log_ins_are_counted_across_processes(two_apps):
    a, b = two_apps
    for i in range(IP_FAILURES_LIMIT):
        client = a if i % 2 else b
        wrong = post_form(client, "/login", {"login": f"nobody{i}", "password": "not the password at all"})
        assert wrong.status_code == 422
    blocked = post_form(a, "/login", {"login": "nobody", "password": "not the password at all"})
    assert blocked.status_code == 429
