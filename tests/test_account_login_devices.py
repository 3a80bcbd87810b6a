"""Lock-out must not become a denial of service (issue 20 item 1): a log-in refused because the
hashing queue is full is not a failed attempt, and a browser that signed in to the account before
(its device cookie) is judged by its own failures, not by strangers' guesses. The flood comes from
many addresses through a trusted proxy (X-Forwarded-For), on the file store and on Redis."""

from __future__ import annotations

import asyncio
import os
from types import SimpleNamespace
from typing import Any

import pytest
import redis
from litestar import Litestar
from litestar.testing import TestClient
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

import src.accounts.login
from src import accounts, passwords, throttle
from src.passwords import HashingBusy
from src.tables.accounts import Account
from tests.support.client import fresh_client, log_in, post_form, run
from tests.support.environment import REDIS_URL
from tests.support.factories import STRONG_PASSWORD, make_account, with_fast_password
from tests.support.pages import csrf_token, errors_on, is_logged_in
from tests.test_account_limits import fire_together

DEVICE = "portal_device"
SESSION = "portal_session"
GUESS = "not-the-right-password-at-all"
WRONG = "The user name, email address or password is not right"


def _redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.exceptions.ConnectionError:
        return False


@pytest.fixture(autouse=True)
def roomy_hashing_queue(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every burst here waits its turn; the tests that fill the queue say so themselves."""
    monkeypatch.setattr(passwords, "MAX_WAITING", 1000)
    monkeypatch.setattr(passwords, "MAX_WAIT_SECONDS", 120.0)


@pytest.fixture
def empty_redis(settings: Any) -> Any:
    if settings.redis_url:
        if not _redis_up() and not os.environ.get("CI"):
            pytest.skip(f"no Redis at {REDIS_URL}")
        redis.Redis.from_url(REDIS_URL).flushdb()
    yield
    if settings.redis_url:
        redis.Redis.from_url(REDIS_URL).flushdb()


def _fast_account(username: str) -> Account:
    account = run(make_account("third_party", username, password=None))
    run(with_fast_password(account))
    return account  # type: ignore[no-any-return]


def _behind_proxy(app: Litestar) -> TestClient[Any]:
    """A browser whose requests reach the app through a trusted proxy, as uvicorn's proxy headers
    do in production: X-Forwarded-For says which address each request comes from."""
    browser = fresh_client(app)
    browser.app = ProxyHeadersMiddleware(app, trusted_hosts="*")  # type: ignore[arg-type]
    return browser


def _known_device(app: Litestar, username: str) -> TestClient[Any]:
    """A browser that signed in to the account once and whose session has ended since."""
    browser = fresh_client(app)
    log_in(browser, username)
    browser.cookies.delete(SESSION)
    assert browser.cookies.get(DEVICE) and not is_logged_in(browser)
    return browser


def _with_device_cookie(app: Litestar, value: str) -> TestClient[Any]:
    browser = fresh_client(app)
    browser.cookies.set(DEVICE, value, domain="testserver.local")
    return browser


def _account_row(account: Account) -> dict[str, Any]:
    return run(  # type: ignore[no-any-return]
        Account.select(Account.failed_logins, Account.locked_until).where(Account.id == account.id).first()
    )


# --- a flood of wrong log-ins from many addresses -------------------------------------------------


@pytest.mark.parametrize("settings", [{}, {"redis_url": REDIS_URL}], indirect=True, ids=["file", "redis"])
def test_a_flood_from_many_addresses_does_not_lock_the_owner_out_of_a_known_device(app, empty_redis):
    tess = _fast_account("tess")
    owners_browser = _known_device(app, "tess")
    flood = _behind_proxy(app)
    token = csrf_token(flood, "/login")

    def guess(address: int, login: str) -> Any:
        data = {"_csrf_token": token, "login": login, "password": GUESS}
        headers = {"X-Forwarded-For": f"203.0.113.{address}"}
        return lambda: flood.post("/login", data=data, headers=headers, follow_redirects=False)

    # Twelve addresses, each guessing an unknown name and the owner's account at the same moment.
    answers = fire_together(*[guess(n, login) for n in range(12) for login in (f"nobody{n}", "tess")])

    assert [a.status_code for a in answers] == [422] * 24
    row = _account_row(tess)
    assert row["failed_logins"] >= accounts.LOCK_AFTER and row["locked_until"] is not None
    # A browser that never signed in is held to the account's lock, right password or not.
    stranger = post_form(fresh_client(app), "/login", {"login": "tess", "password": STRONG_PASSWORD})
    assert stranger.status_code == 422 and errors_on(stranger) == {"login": WRONG}
    # The owner's browser is judged by its own failures (none): the right password signs in.
    log_in(owners_browser, "tess")
    assert is_logged_in(owners_browser)
    # The strangers still meet the lock: the owner's log-in did not lift it for them.
    assert _account_row(tess)["locked_until"] is not None


def test_a_known_device_that_fails_too_often_is_locked_itself_not_the_account(app):
    tess = _fast_account("tess")
    browser = _known_device(app, "tess")
    for _ in range(accounts.LOCK_AFTER):
        assert post_form(browser, "/login", {"login": "tess", "password": GUESS}).status_code == 422

    refused = post_form(browser, "/login", {"login": "tess", "password": STRONG_PASSWORD})

    assert refused.status_code == 422 and errors_on(refused) == {"login": WRONG}
    assert not is_logged_in(browser)
    assert _account_row(tess) == {"failed_logins": 0, "locked_until": None}
    log_in(fresh_client(app), "tess")


def test_simultaneous_guesses_through_one_device_cookie_check_at_most_five(app, monkeypatch):
    _fast_account("tess")
    checked: list[str] = []
    real = src.accounts.login.verify_password

    async def counting(stored_hash: str | None, password: str) -> bool:
        if stored_hash is not None:
            checked.append(password)
        return await real(stored_hash, password)

    monkeypatch.setattr(src.accounts.login, "verify_password", counting)
    browser = _known_device(app, "tess")
    checked.clear()
    token = csrf_token(browser, "/login")
    data = {"_csrf_token": token, "login": "tess", "password": GUESS}

    answers = fire_together(*[lambda: browser.post("/login", data=data, follow_redirects=False)] * 20)

    assert [a.status_code for a in answers] == [422] * 20
    assert len(checked) == accounts.LOCK_AFTER


def test_a_tampered_or_another_accounts_device_cookie_counts_as_no_device(app):
    _fast_account("tess")
    _fast_account("mia")
    tess_cookie = _known_device(app, "tess").cookies[DEVICE]
    mia_cookie = _known_device(app, "mia").cookies[DEVICE]
    stranger = fresh_client(app)
    for _ in range(accounts.LOCK_AFTER):
        post_form(stranger, "/login", {"login": "tess", "password": GUESS})
    tampered = ("B" if tess_cookie[0] == "A" else "A") + tess_cookie[1:]

    for cookie in (tampered, mia_cookie):
        browser = _with_device_cookie(app, cookie)
        answer = post_form(browser, "/login", {"login": "tess", "password": STRONG_PASSWORD})
        assert answer.status_code == 422 and not is_logged_in(browser)
    # The genuine cookie, in any browser that carries it, is the known device.
    log_in(_with_device_cookie(app, tess_cookie), "tess")


def test_the_device_cookie_is_http_only_same_site_and_long_lived(client):
    _fast_account("tess")

    response = log_in(client, "tess")

    device = [c for c in response.headers.get_list("set-cookie") if c.startswith(f"{DEVICE}=")]
    assert len(device) == 1
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in device[0].split(";")[1:]}
    assert "httponly" in attributes and attributes["samesite"].lower() == "samesite=lax"
    assert attributes["path"] == "Path=/" and attributes["max-age"] == f"Max-Age={accounts.DEVICE_MAX_AGE}"
    assert "secure" not in attributes  # http in tests; under https the cookie is Secure and __Host-


# --- refused for capacity is not a failure ------------------------------------------------------


@pytest.fixture
def hashing_queue(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """`fill()`: no hashing thread free and no room in line, a log-in storm at its worst; `free()`."""
    real_slots = passwords._slots
    monkeypatch.setattr(passwords, "MAX_WAITING", 0)
    return SimpleNamespace(
        fill=lambda: monkeypatch.setattr(passwords, "_slots", asyncio.Semaphore(0)),
        free=lambda: monkeypatch.setattr(passwords, "_slots", real_slots),
    )


@pytest.mark.parametrize("settings", [{}, {"redis_url": REDIS_URL}], indirect=True, ids=["file", "redis"])
def test_log_ins_refused_for_capacity_are_not_counted_as_failures(app, empty_redis, hashing_queue):
    tess = _fast_account("tess")
    browser = fresh_client(app)
    hashing_queue.fill()
    for password in [GUESS] * accounts.LOCK_AFTER + [STRONG_PASSWORD] * 2:
        refused = post_form(browser, "/login", {"login": "tess", "password": password})
        assert refused.status_code == 429 and refused.headers["retry-after"]

    assert _account_row(tess) == {"failed_logins": 0, "locked_until": None}
    assert run(throttle.count(app.stores.get("throttle"), "login-failures:testclient")) == 0
    hashing_queue.free()
    log_in(browser, "tess")


def test_a_known_devices_attempts_refused_for_capacity_are_not_counted(app, hashing_queue):
    _fast_account("tess")
    browser = _known_device(app, "tess")
    hashing_queue.fill()
    for _ in range(accounts.LOCK_AFTER + 1):
        assert post_form(browser, "/login", {"login": "tess", "password": GUESS}).status_code == 429
    hashing_queue.free()
    # Had the refused guesses counted, the device would be locked now.
    log_in(browser, "tess")


def test_a_current_password_refused_for_capacity_is_not_counted(client, hashing_queue):
    tess = _fast_account("tess")
    hashing_queue.fill()

    for _ in range(accounts.LOCK_AFTER + 1):
        with pytest.raises(HashingBusy):
            run(accounts.check_current_password(tess, GUESS))

    assert _account_row(tess) == {"failed_logins": 0, "locked_until": None}


HTTPS = "https://testserver.local"


@pytest.mark.parametrize("settings", [{"base_url": HTTPS}], indirect=True)
def test_under_https_the_device_cookie_is_secure_and_host_only(app):
    _fast_account("tess")
    browser = TestClient(app, base_url=HTTPS)  # the running app (shared loop), over https

    response = log_in(browser, "tess")

    device = [c for c in response.headers.get_list("set-cookie") if c.startswith(f"__Host-{DEVICE}=")]
    assert len(device) == 1
    attributes = {part.strip().lower() for part in device[0].split(";")[1:]}
    assert {"secure", "httponly", "path=/", "samesite=lax"} <= attributes
    assert not any(part.startswith("domain") for part in attributes)
    # And the browser carries it back: it is the known device when strangers have locked the account.
    browser.cookies.delete(f"__Host-{SESSION}")
    stranger = TestClient(app, base_url=HTTPS)
    for _ in range(accounts.LOCK_AFTER):
        post_form(stranger, "/login", {"login": "tess", "password": GUESS})
    assert post_form(stranger, "/login", {"login": "tess", "password": STRONG_PASSWORD}).status_code == 422
    log_in(browser, "tess")
