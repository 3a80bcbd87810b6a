"""Hardening that is easy to lose without noticing: every non-public route has a guard, tokens dated
in the future are refused, every 429 says when to retry, logging out clears the browser's data, and
an error page's reference is the one in the log."""

from __future__ import annotations

import logging
import time

import pytest
from litestar.routes import HTTPRoute

from src.tables.accounts import Account
from src.tokens import RESET_PASSWORD_MAX_AGE, TokenError, Tokens, password_fingerprint
from tests.support.client import log_in, post_form, run
from tests.support.factories import make_account
from tests.support.pages import csrf_token, html, is_logged_in

# Routes anyone may use without logging in, each with the reason. Anything else must have a guard.
PUBLIC = {
    ("GET", "/"): "the start page",
    ("GET", "/healthz"): "the load balancer's health check",
    ("GET", "/readyz"): "the load balancer's readiness check",
    ("GET", "/login"): "logging in",
    ("POST", "/login"): "logging in",
    ("POST", "/logout"): "ending a session that may already have ended is harmless",
    ("GET", "/register"): "registration",
    ("POST", "/register"): "registration",
    ("GET", "/register/check-email"): "registration",
    ("GET", "/verify-email/{token:str}"): "the emailed link is the credential",
    ("GET", "/verify-email/resend"): "asking for the link again",
    ("POST", "/verify-email/resend"): "asking for the link again",
    ("GET", "/activate/{token:str}"): "the emailed link is the credential",
    ("POST", "/activate/{token:str}"): "the emailed link is the credential",
    ("GET", "/forgot-password"): "password reset",
    ("POST", "/forgot-password"): "password reset",
    ("GET", "/forgot-password/sent"): "password reset",
    ("GET", "/reset-password/{token:str}"): "the emailed link is the credential",
    ("POST", "/reset-password/{token:str}"): "the emailed link is the credential",
    ("GET", "/dev/mailbox"): "development mode only (absent in production)",
    ("GET", "/dev/mailbox/{mail_id:int}"): "development mode only (absent in production)",
    ("GET", "/email-change/stop/{token:str}"): "the emailed link to the old address is the credential",
    ("POST", "/email-change/stop/{token:str}"): "the emailed link to the old address is the credential",
    ("GET", "/v/{code:str}"): "the public verify page: anyone who scans a QR code",
    ("GET", "/verify"): "the public typed check of a code",
    ("GET", "/api/v1/verify/{code:str}"): "the public verifier API",
    ("POST", "/api/v1/verify"): "the public verifier API (a batch of codes)",
    ("GET", "/api/v1/openapi.json"): "the verifier API's schema",
    ("GET", "/api/v1"): "the verifier API's schema (Litestar's schema controller)",
    ("GET", "/api/v1/{path:str}"): "the verifier API's schema (Litestar's schema controller)",
}


def test_every_route_that_is_not_public_has_a_guard(app):
    unguarded = set()
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith("/static"):
            continue
        for handler in route.route_handlers:
            for method in handler.http_methods:
                if method in {"HEAD", "OPTIONS"}:
                    continue
                key = (method, route.path)
                if not handler.resolve_guards() and key not in PUBLIC:
                    unguarded.add(key)
    assert not unguarded, f"routes with no guard that are not on the public list: {sorted(unguarded)}"


def test_the_public_list_names_only_routes_that_exist(app):
    existing = {
        (method, route.path)
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for handler in route.route_handlers
        for method in handler.http_methods
    }
    assert set(PUBLIC) <= existing, sorted(set(PUBLIC) - existing)


def test_a_token_dated_in_the_future_is_refused(monkeypatch):
    tokens = Tokens(("k" * 40,))
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 3600)
    future = tokens.sign("reset", {"account": 1})
    monkeypatch.setattr(time, "time", real_time)
    with pytest.raises(TokenError):
        tokens.load("reset", future, RESET_PASSWORD_MAX_AGE)
    # The same token made now is accepted: it is the date that is refused.
    assert tokens.load("reset", tokens.sign("reset", {"account": 1}), RESET_PASSWORD_MAX_AGE) == {
        "account": 1
    }


def test_a_reset_link_dated_in_the_future_shows_no_form(app, client, monkeypatch):
    account = run(make_account(username="tess"))
    payload = {"a": account.id, "f": password_fingerprint(account.password_hash, account.last_login_at)}
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 3600)
    future = app.state.tokens.sign("reset-password", payload)
    monkeypatch.setattr(time, "time", real_time)
    assert html(client.get(f"/reset-password/{future}")).css_first('input[name="password"]') is None
    # The same link dated now is good: only the date made the difference.
    now = app.state.tokens.sign("reset-password", payload)
    assert html(client.get(f"/reset-password/{now}")).css_first('input[name="password"]') is not None


def signed_an_hour_ahead(tokens, purpose: str, payload: dict, monkeypatch) -> str:
    """A link signed by a host whose clock runs an hour fast."""
    real_time = time.time
    with monkeypatch.context() as patch:
        patch.setattr(time, "time", lambda: real_time() + 3600)
        return tokens.sign(purpose, payload)


async def _link_case(kind: str) -> tuple[str, str, dict]:
    """An account waiting for the emailed link of this kind: its purpose, address and payload."""
    if kind == "verify-email":
        account = await make_account(username="tess", verified=False)
        return "verify-email", "/verify-email/{}", {"a": account.id, "e": account.email}
    if kind == "activate":
        account = await make_account("learner", username="lena", password=None)
        payload = {"a": account.id, "e": account.email, "f": password_fingerprint(None, None)}
        return "activate", "/activate/{}", payload
    account = await make_account(username="tess")
    await Account.update({Account.pending_email: "new@example.com"}).where(Account.id == account.id)
    if kind == "change-email":
        payload = {"a": account.id, "old": account.email, "e": "new@example.com"}
        return "change-email", "/profile/email/{}", payload
    return "stop-email-change", "/email-change/stop/{}", {"a": account.id, "e": "new@example.com"}


@pytest.mark.parametrize("kind", ["verify-email", "activate", "change-email", "stop-email-change"])
def test_every_emailed_link_dated_in_the_future_is_refused(app, client, monkeypatch, kind):
    purpose, address, payload = run(_link_case(kind))
    if kind == "change-email":
        log_in(client, "tess")  # the new address's link is opened signed in
    future = signed_an_hour_ahead(app.state.tokens, purpose, payload, monkeypatch)
    refused = client.get(address.format(future), follow_redirects=False)
    assert refused.status_code == 400
    assert html(refused).css_first("main h1").text(strip=True).startswith("This link")
    # The same link dated now works: only the date made the difference.
    accepted = client.get(address.format(app.state.tokens.sign(purpose, payload)), follow_redirects=False)
    assert accepted.status_code in {200, 303}, accepted.text


def test_every_429_says_when_to_retry(client):
    run(make_account(username="tess"))
    for _ in range(60):
        response = post_form(client, "/login", {"login": "tess", "password": "wrong-guess-here"})
        if response.status_code == 429:
            break
    assert response.status_code == 429
    assert response.headers["retry-after"].isdigit()


def test_logging_out_clears_the_browsers_data(client):
    run(make_account(username="tess"))
    log_in(client, "tess")
    session = client.cookies.get("portal_session")
    response = post_form(client, "/logout", {}, token_from="/dashboard")
    assert response.status_code == 303
    assert response.headers["clear-site-data"] == '"cache", "storage"'
    # The session is over on the server; the device cookie stays, so this browser is still a known
    # device for the lock-out at its next log-in (test_account_login_devices.py).
    assert client.cookies.get("portal_session") != session
    client.cookies.set("portal_session", session, domain="testserver.local")
    assert not is_logged_in(client)
    assert client.cookies.get("portal_device")
    htmx = post_form(client, "/logout", {}, htmx=True)
    assert htmx.headers["clear-site-data"] == '"cache", "storage"'


def test_an_error_page_shows_the_reference_that_is_in_the_log(client, caplog):
    csrf_token(client)
    with caplog.at_level(logging.INFO, logger="portal.errors"):
        response = client.post("/login", data={"login": "x", "password": "y"}, follow_redirects=False)
    assert response.status_code == 403
    reference = html(response).css_first(".error-reference").text(strip=True)
    assert len(reference) == 8
    assert [r for r in caplog.records if reference in r.getMessage()]
    # Each error gets its own reference.
    again = client.post("/login", data={"login": "x", "password": "y"}, follow_redirects=False)
    assert html(again).css_first(".error-reference").text(strip=True) != reference
