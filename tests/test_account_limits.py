"""Log-in limits under bursts (issue 9 items 1, 3 and 8): the per-account count is taken atomically
before the password is hashed, the per-address count is incremented first then compared (file store
and Redis), wrong current passwords in change-password and delete-account count like failed log-ins,
and a locked account answers exactly like an unknown one."""

from __future__ import annotations

import asyncio
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import redis
from litestar.testing import TestClient

import src.accounts.login
import src.passwords
from src import accounts
from src.app import create_app
from src.routes.session import IP_FAILURES_LIMIT
from src.tables.accounts import Account
from tests.support.client import log_in, make_settings, post_form, run
from tests.support.connection_fixtures import FAST_HASH
from tests.support.environment import BASE_URL, REDIS_URL
from tests.support.factories import STRONG_PASSWORD, make_account
from tests.support.pages import csrf_token, errors_on, html, is_logged_in

WRONG = "The user name, email address or password is not right"
GUESS = "not-the-right-password-at-all"


def _redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.exceptions.ConnectionError:
        return False


async def _fast_account(username: str, role: str = "third_party") -> Any:
    account = await make_account(role, username, password=None)
    await Account.update({Account.password_hash: FAST_HASH}).where(Account.id == account.id)
    account.password_hash = FAST_HASH
    return account


def fire_together(*requests: Any) -> list[Any]:
    """Send the requests from separate threads, released at the same moment."""
    barrier = threading.Barrier(len(requests))

    def send(request: Any) -> Any:
        barrier.wait(timeout=10)
        return request()

    with ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(send, requests))


@pytest.fixture(autouse=True)
def roomy_hashing_queue(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about the counters. The hashing queue's own bound (a storm is told "busy,
    try again" with 429) is tested in test_account_login_storm.py; here every burst waits its turn."""
    monkeypatch.setattr(src.passwords, "MAX_WAITING", 1000)
    monkeypatch.setattr(src.passwords, "MAX_WAIT_SECONDS", 120.0)


@pytest.fixture
def real_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password check made against a real stored hash (not the stand-in for refused attempts)."""
    checked: list[str] = []
    real = src.accounts.login.verify_password

    async def counting(stored_hash: str | None, password: str) -> bool:
        if stored_hash is not None:
            checked.append(password)
        return await real(stored_hash, password)

    monkeypatch.setattr(src.accounts.login, "verify_password", counting)
    return checked


# --- per account, through the domain function --------------------------------------------------------


def test_thirty_simultaneous_guesses_check_at_most_five_and_lock(client, real_checks):
    tess = run(_fast_account("tess"))

    async def burst() -> list[accounts.LoginResult]:
        return await asyncio.gather(*[accounts.check_login("tess", GUESS) for _ in range(30)])

    results = run(burst())
    assert all(result.problem == "wrong" for result in results)
    assert len(real_checks) == accounts.LOCK_AFTER
    row = run(
        Account.select(Account.failed_logins, Account.locked_until).where(Account.id == tess.id).first()
    )
    assert row["failed_logins"] == 30 and row["locked_until"] is not None
    # The right password is refused now: the guesses locked the account.
    assert run(accounts.check_login("tess", STRONG_PASSWORD)).account is None


def test_simultaneous_attempts_after_a_lock_runs_out_get_one_check(client, real_checks):
    tess = run(_fast_account("tess"))
    for _ in range(accounts.LOCK_AFTER):
        run(accounts.check_login("tess", GUESS))
    real_checks.clear()
    # The lock ran out (moved into the past): of ten racing attempts, only one is checked.
    run(Account.update({Account.locked_until: Account.created_at}).where(Account.id == tess.id))

    async def burst() -> list[accounts.LoginResult]:
        return await asyncio.gather(*[accounts.check_login("tess", GUESS) for _ in range(10)])

    run(burst())
    assert len(real_checks) == 1


# --- per account, through the pages ----------------------------------------------------------------


def test_simultaneous_wrong_log_ins_from_many_browsers_lock_the_account(client, app):
    run(_fast_account("tess"))
    token = csrf_token(client, "/login")
    data = {"_csrf_token": token, "login": "tess", "password": GUESS}
    # 15: under the per-address limit, so only the per-account count can stop the right password.
    answers = fire_together(*[lambda: client.post("/login", data=data, follow_redirects=False)] * 15)
    assert [a.status_code for a in answers] == [422] * 15
    right = client.post("/login", data={**data, "password": STRONG_PASSWORD}, follow_redirects=False)
    assert right.status_code == 422
    assert not is_logged_in(client)


def test_a_locked_account_answers_like_an_unknown_one(client, other_client):
    run(_fast_account("tess"))
    for _ in range(accounts.LOCK_AFTER):
        post_form(client, "/login", {"login": "tess", "password": GUESS})
    locked = post_form(other_client, "/login", {"login": "tess", "password": STRONG_PASSWORD})
    unknown = post_form(other_client, "/login", {"login": "nobody", "password": GUESS})
    assert locked.status_code == unknown.status_code == 422
    assert errors_on(locked) == errors_on(unknown) == {"login": WRONG}
    assert html(locked).css_first("#login-hint").text() == html(unknown).css_first("#login-hint").text()
    assert not is_logged_in(other_client)


# --- per address: file store and Redis --------------------------------------------------------------


@pytest.fixture(params=["file", "redis"])
def store_client(request, smtp_server, mailbox):
    if request.param == "redis":
        if not _redis_up() and not os.environ.get("CI"):
            pytest.skip(f"no Redis at {REDIS_URL}")
        redis.Redis.from_url(REDIS_URL).flushdb()
        settings = make_settings(smtp_server.port, redis_url=REDIS_URL)
    else:
        settings = make_settings(smtp_server.port)
    with TestClient(create_app(settings), base_url=BASE_URL) as test_client:
        yield test_client
    if request.param == "redis":
        redis.Redis.from_url(REDIS_URL).flushdb()


def test_forty_simultaneous_wrong_log_ins_from_one_address_stop_at_the_limit(store_client):
    token = csrf_token(store_client, "/login")

    def guess(number: int) -> Any:
        data = {"_csrf_token": token, "login": f"guess{number}", "password": GUESS}
        return lambda: store_client.post("/login", data=data, follow_redirects=False)

    answers = fire_together(*[guess(n) for n in range(40)])
    codes = sorted(a.status_code for a in answers)
    assert codes == [422] * IP_FAILURES_LIMIT + [429] * (40 - IP_FAILURES_LIMIT)


def test_a_right_log_in_does_not_use_up_the_address_limit(store_client):
    run(_fast_account("tess"))
    for _ in range(IP_FAILURES_LIMIT + 5):
        log_in(store_client, "tess")
        post_form(store_client, "/logout", {}, token_from="/dashboard")


# --- current password in change-password and delete-account ------------------------------------------


def test_wrong_current_passwords_lock_the_account_like_failed_log_ins(client, other_client):
    run(_fast_account("tess"))
    log_in(client, "tess")
    for _ in range(accounts.LOCK_AFTER):
        wrong = post_form(
            client,
            "/profile/password",
            {"current_password": GUESS, "password": "a-brand-new-long-passphrase"},
            token_from="/profile/password",
        )
        assert errors_on(wrong)["current_password"] == "Your current password is not right"
    # Now even the right current password is refused, and log-in elsewhere is locked too.
    refused = post_form(
        client,
        "/profile/password",
        {"current_password": STRONG_PASSWORD, "password": "a-brand-new-long-passphrase"},
        token_from="/profile/password",
    )
    assert refused.status_code == 429
    assert errors_on(refused)["current_password"].startswith("Too many wrong passwords")
    deleting = post_form(
        client, "/profile/delete", {"password": STRONG_PASSWORD}, token_from="/profile/delete"
    )
    assert deleting.status_code == 429
    assert errors_on(deleting)["password"].startswith("Too many wrong passwords")
    assert (
        post_form(other_client, "/login", {"login": "tess", "password": STRONG_PASSWORD}).status_code == 422
    )
    assert run(Account.count().where(Account.deleted_at.is_null())) == 1


def test_simultaneous_wrong_passwords_on_delete_account_check_at_most_five(client, real_checks):
    run(_fast_account("tess"))
    log_in(client, "tess")
    real_checks.clear()
    token = csrf_token(client, "/profile/delete")
    data = {"_csrf_token": token, "password": GUESS}
    answers = fire_together(*[lambda: client.post("/profile/delete", data=data, follow_redirects=False)] * 20)
    assert all(a.status_code in (422, 429) for a in answers)
    assert len(real_checks) == accounts.LOCK_AFTER
