"""Staff cannot work without two-step sign-in (issue 21): enrolment straight after the password, no
/staff page (every one of them, GET or POST) for a staff session without it, and staff resetting
another person's two-step sign-in (never their own), with the reason in the audit log."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.handlers import HTTPRouteHandler

from src.tables.accounts import Account
from src.tables.connections import AccessEvent
from tests.support.client import fresh_client, log_in, post_form, run
from tests.support.factories import STRONG_PASSWORD, make_account
from tests.support.pages import errors_on, heading, html, is_logged_in
from tests.support.smtp import text_of
from tests.support.two_step import code_at, enrol, key_of, step_now

SETUP = "/profile/two-step/setup"


def staff_routes(app: Any) -> list[tuple[str, str]]:
    """Every (method, path) under /staff, path parameters filled in with 1."""
    found = []
    for route in app.routes:
        if not route.path.startswith("/staff"):
            continue
        for handler in getattr(route, "route_handlers", []):
            if not isinstance(handler, HTTPRouteHandler):
                continue
            for method in handler.http_methods:
                if method in ("HEAD", "OPTIONS"):
                    continue
                found.append((method, re.sub(r"\{[^}]+\}", "1", route.path)))
    return sorted(set(found))


def test_there_are_staff_routes_to_walk(app):
    routes = staff_routes(app)
    assert ("GET", "/staff/learners") in routes and ("POST", "/staff/documents/1/revoke") in routes
    assert len(routes) > 20


def test_a_staff_account_without_two_step_is_taken_to_enrolment_after_its_password(client):
    run(make_account("staff", "nina", two_step=False))
    response = post_form(client, "/login", {"login": "nina", "password": STRONG_PASSWORD})
    assert response.status_code == 303 and response.headers["location"] == "/login/second-step"
    page = client.get("/login/second-step")
    assert heading(page) == "Set up two-step sign-in"
    assert html(page).css_first("svg.qr") is not None
    # Not logged in: no staff page, nor any other page that needs a log-in.
    assert not is_logged_in(client)
    for method, path in staff_routes(client.app):
        answer = client.request(method, path, follow_redirects=False)
        assert answer.status_code in (303, 403), (method, path, answer.status_code)
        if answer.status_code == 303:
            assert answer.headers["location"].startswith("/login"), (method, path)


def test_staff_enrol_at_first_sign_in_then_reach_their_pages(client, mailbox):
    run(make_account("staff", "nina", two_step=False))
    post_form(client, "/login", {"login": "nina", "password": STRONG_PASSWORD})
    page = html(client.get("/login/second-step"))
    key = "".join(page.css_first(".secret-key code").text().split())
    wrong = post_form(
        client, "/login/second-step/enrol", {"code": "12 34 56"}, token_from="/login/second-step"
    )
    assert wrong.status_code == 422 and "code" in errors_on(wrong)

    done = post_form(client, "/login/second-step/enrol", {"code": code_at(key, step_now())})
    assert done.status_code == 200 and heading(done) == "Your recovery codes"
    assert len(html(done).css(".recovery-codes code")) == 10
    assert client.get("/staff/learners").status_code == 200
    mailbox.wait_for(to="nina@example.com", subject="Two-step sign-in is on")


def test_a_staff_session_without_two_step_reaches_no_staff_page(client):
    """A session that began before two-step sign-in was required (or any other way): every /staff
    route, GET or POST, sends it to set up two-step sign-in first."""
    staff = run(make_account("staff", "nina"))
    log_in(client, "nina")
    run(Account.update({Account.two_step_since: None}).where(Account.id == staff.id))
    token = html(client.get("/dashboard")).css_first('input[name="_csrf_token"]').attributes["value"]
    for method, path in staff_routes(client.app):
        if method == "GET":
            # A POST-only address's reload (a GET) leads to its page, which is refused in turn.
            answer = client.get(path)
            assert answer.url.path == SETUP and heading(answer) == "Set up two-step sign-in", (
                path,
                answer.url,
            )
            continue
        answer = client.request(method, path, data={"_csrf_token": token}, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == SETUP, (method, path)
    htmx = client.get("/staff/learners", headers={"HX-Request": "true"}, follow_redirects=False)
    assert htmx.headers.get("hx-redirect") == SETUP


def test_staff_cannot_turn_two_step_off(client):
    run(make_account("staff", "nina"))
    log_in(client, "nina")
    page = client.get("/profile/two-step")
    assert html(page).css_first('form[action="/profile/two-step/off"]') is None
    refused = post_form(client, "/profile/two-step/off", {}, token_from="/profile/two-step")
    assert refused.status_code == 422
    assert run(Account.by_login("nina")).two_step_since is not None


# --- staff reset another person's two-step sign-in ----------------------------------------------------


@pytest.fixture
def tess_enrolled(tess: Account) -> Account:
    run(enrol(tess))
    return tess


def reset(client: Any, login: str, reason: str = "Lost phone; called her on the number on file") -> Any:
    return post_form(
        client, "/staff/two-step", {"login": login, "reason": reason}, token_from="/staff/two-step"
    )


def test_staff_reset_someones_two_step_with_a_reason(client, other_client, tess_enrolled, mailbox):
    log_in(other_client, "tess")
    staff = run(make_account("staff", "sam"))
    log_in(client, "sam")
    page = client.get("/staff/two-step")
    assert page.status_code == 200 and html(page).css_first("input#reason") is not None

    missing = reset(client, "tess", reason="")
    assert missing.status_code == 422 and "reason" in errors_on(missing)
    unknown = reset(client, "nobody-here")
    assert unknown.status_code == 422 and "login" in errors_on(unknown)

    done = reset(client, "tess")
    assert done.status_code == 303
    assert run(Account.by_login("tess")).two_step_since is None
    assert not is_logged_in(other_client)  # all her sessions ended
    notice = mailbox.wait_for(to="tess@example.com", subject="Your two-step sign-in was reset")
    assert "If you did not ask for this" in text_of(notice)
    event = run(AccessEvent.objects().where(AccessEvent.action == "reset_two_step").first())
    assert event.account == staff.id and "Lost phone" in event.detail and "tess" in event.detail.lower()
    # Her password alone signs her in now; she may turn it on again.
    browser = fresh_client(client.app)
    assert (
        post_form(browser, "/login", {"login": "tess", "password": STRONG_PASSWORD}).headers["location"]
        == "/dashboard"
    )


def test_staff_cannot_reset_their_own_two_step(client):
    run(make_account("staff", "sam"))
    log_in(client, "sam")
    refused = reset(client, "sam")
    assert refused.status_code == 422
    assert "your own" in errors_on(refused)["login"]
    assert run(Account.by_login("sam")).two_step_since is not None


def test_a_reset_staff_member_must_enrol_again(client, other_client):
    run(make_account("staff", "sam"))
    run(make_account("staff", "nina"))
    log_in(client, "sam")
    assert reset(client, "nina").status_code == 303
    response = post_form(other_client, "/login", {"login": "nina", "password": STRONG_PASSWORD})
    assert response.headers["location"] == "/login/second-step"
    assert heading(other_client.get("/login/second-step")) == "Set up two-step sign-in"
    assert key_of("nina") is not None  # the old key no longer signs in
    old = post_form(other_client, "/login/second-step", {"code": code_at(key_of("nina"), step_now() + 1)})
    assert old.status_code == 422 and not is_logged_in(other_client)
