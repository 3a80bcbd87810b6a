"""Logging in and out: user name or email, the same answer for a wrong password and an unknown user,
unverified accounts, a new session id at log-in, `next`, throttles per account and per IP, htmx
redirects, idle and absolute time-outs, and CSRF on the forms."""

from __future__ import annotations

from src.tables.accounts import Account
from tests.support.client import log_in, post_form, run
from tests.support.environment import BASE_URL
from tests.support.factories import STRONG_PASSWORD, make_account
from tests.support.pages import csrf_token, errors_on, heading, html, is_logged_in, notices

WRONG = "The user name, email address or password is not right"
SESSION = "portal_session"


def attempt(client, login: str, password: str = STRONG_PASSWORD, htmx: bool = False, **extra: str):
    return post_form(client, "/login", {"login": login, "password": password, **extra}, htmx=htmx)


# --- the form -------------------------------------------------------------------------------------


def test_login_page_and_htmx_fragment(client):
    page = client.get("/login")
    assert page.status_code == 200
    form = html(page).css_first("main form#login-form")
    assert form.attributes["action"] == "/login"
    assert html(page).css_first('main a[href="/forgot-password"]') is not None
    assert html(page).css_first('input[name="password"]').attributes["type"] == "password"

    fragment = client.get("/login", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "HX-Request" in fragment.headers["vary"].split(",")
    assert html(fragment).css_first("header") is None and "<html" not in fragment.text.lower()
    assert html(fragment).css_first("form#login-form") is not None


def test_empty_form_is_refused_inline(client):
    response = attempt(client, "", "")
    assert response.status_code == 422
    assert errors_on(response) == {
        "login": "Enter your user name or email address",
        "password": "Enter your password",
    }


# --- who may log in -------------------------------------------------------------------------------


def test_log_in_with_user_name_or_email_in_any_case(client, tess):
    for login in ("Tess", "tess", "TESS", "tess@example.com", "  Tess@Example.COM "):
        response = attempt(client, login)
        assert response.status_code == 303, login
        assert response.headers["location"] == "/dashboard"
        dashboard = client.get("/dashboard")
        assert dashboard.status_code == 200
        assert heading(dashboard) == "Hello, Tess"
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie
        post_form(client, "/logout", {}, token_from="/dashboard")
        assert not is_logged_in(client)


def test_wrong_password_and_unknown_user_get_the_same_answer(client, tess):
    wrong = attempt(client, "tess", "not-the-right-password-at-all")
    unknown = attempt(client, "nobody", "not-the-right-password-at-all")
    assert wrong.status_code == unknown.status_code == 422
    assert errors_on(wrong) == errors_on(unknown) == {"login": WRONG}
    assert html(wrong).css_first("main h1").text() == html(unknown).css_first("main h1").text()
    # What was typed is kept, except the password.
    assert html(wrong).css_first('input[name="login"]').attributes["value"] == "tess"
    assert html(wrong).css_first('input[name="password"]').attributes.get("value") is None
    assert not is_logged_in(client)


def test_unverified_account_is_refused_with_a_way_to_resend(client):
    run(make_account(username="nina", verified=False))
    response = attempt(client, "nina")
    assert response.status_code == 422
    assert errors_on(response)["login"].startswith("You need to verify your email address")
    assert html(response).css_first('form#login-form a[href="/verify-email/resend"]') is not None
    assert not is_logged_in(client)


def test_deleted_account_cannot_log_in(client, tess):
    run(Account.update({Account.deleted_at: Account.created_at}).where(Account.id == tess.id).run())
    response = attempt(client, "tess")
    assert response.status_code == 422
    assert errors_on(response) == {"login": WRONG}


# --- the session ----------------------------------------------------------------------------------


def test_session_id_is_replaced_at_log_in(client, tess):
    # An anonymous session that holds something (a flash message) has an id before log-in.
    post_form(client, "/logout", {})
    before = client.cookies.get(SESSION)
    assert before
    log_in(client, "tess")
    after = client.cookies.get(SESSION)
    assert after and after != before
    assert is_logged_in(client)
    # The id planted before log-in is worth nothing to whoever knows it.
    client.cookies.set(SESSION, before, domain="testserver.local")
    assert not is_logged_in(client)


def test_planted_session_id_is_not_adopted(client, tess):
    client.cookies.set(SESSION, "attacker-chosen-id", domain="testserver.local")
    log_in(client, "tess")
    assert client.cookies.get(SESSION) != "attacker-chosen-id"


NEXT_CASES = [
    ("/profile", "/profile"),
    ("/profile?tab=addresses", "/profile?tab=addresses"),
    ("//evil.example", "/dashboard"),
    ("https://evil.example", "/dashboard"),
    ("/\\evil.example", "/dashboard"),
    ("\\\\evil.example", "/dashboard"),
    ("javascript:alert(1)", "/dashboard"),
]


def test_next_accepts_local_paths_only(client, tess):
    for next_value, expected in NEXT_CASES:
        page = client.get("/login", params={"next": next_value})
        hidden = html(page).css_first('form#login-form input[name="next"]').attributes["value"]
        assert hidden == (expected if expected != "/dashboard" else ""), next_value
    for next_value in ("/profile", "//evil.example", "https://evil.example", "/\\evil.example"):
        # Even when posted directly, a foreign target is ignored.
        response = attempt(client, "tess", next=next_value)
        assert response.headers["location"] == dict(NEXT_CASES)[next_value], next_value
        post_form(client, "/logout", {}, token_from="/dashboard")


def test_logout_ends_the_session(client, tess):
    log_in(client, "tess")
    session_id = client.cookies.get(SESSION)
    response = post_form(client, "/logout", {}, token_from="/dashboard")
    assert response.status_code == 303 and response.headers["location"] == "/login?logged_out=true"
    # Said once, whether the browser kept the flash cookie or cleared it (Clear-Site-Data).
    assert notices(client.get(response.headers["location"])) == ["You have logged out."]
    client.cookies.clear()
    assert notices(client.get(response.headers["location"])) == ["You have logged out."]
    dashboard = client.get("/dashboard", follow_redirects=False)
    assert dashboard.status_code == 303
    assert dashboard.headers["location"] == "/login?next=/dashboard"
    # Replaying the cookie from before log-out does not bring the session back.
    client.cookies.set(SESSION, session_id, domain="testserver.local")
    assert not is_logged_in(client)


def test_anonymous_dashboard_redirects_to_log_in(client):
    response = client.get("/dashboard", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/dashboard"
    page = client.get(response.headers["location"])
    assert html(page).css_first('input[name="next"]').attributes["value"] == "/dashboard"


def test_anonymous_htmx_request_gets_hx_redirect_not_a_login_page(client):
    response = client.get("/dashboard", headers={"HX-Request": "true"}, follow_redirects=False)
    assert response.headers["hx-redirect"] == "/login?next=/dashboard"
    assert "location" not in response.headers
    assert response.text == ""
    # htmx says which page it was on; the person comes back there after logging in.
    from_page = client.get(
        "/dashboard",
        headers={"HX-Request": "true", "HX-Current-URL": f"{BASE_URL}/profile?tab=1"},
        follow_redirects=False,
    )
    assert from_page.headers["hx-redirect"] == "/login?next=/profile%3Ftab%3D1"
    login_page = client.get(from_page.headers["hx-redirect"])
    assert html(login_page).css_first('input[name="next"]').attributes["value"] == "/profile?tab=1"


def test_htmx_log_in_answers_with_hx_redirect(client, tess):
    page = client.get("/login", params={"next": "/profile"})
    token = html(page).css_first('input[name="_csrf_token"]').attributes["value"]
    response = client.post(
        "/login",
        data={"_csrf_token": token, "login": "tess", "password": STRONG_PASSWORD, "next": "/profile"},
        headers={"HX-Request": "true"},
        follow_redirects=False,
    )
    assert response.status_code == 200
    assert response.headers["hx-redirect"] == "/profile"
    assert is_logged_in(client)


def test_htmx_refusal_is_the_form_fragment(client, tess):
    response = attempt(client, "tess", "not-the-right-password-at-all", htmx=True)
    assert response.status_code == 422
    assert "<html" not in response.text.lower()
    assert html(response).css_first("form#login-form .error-summary") is not None
    assert errors_on(response) == {"login": WRONG}


# --- time-outs ------------------------------------------------------------------------------------


def assert_session_ended(client) -> None:
    response = client.get("/dashboard", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/dashboard"
    page = client.get(response.headers["location"])
    assert "Your session ended, so you need to log in again." in notices(page)
    # The notice is said once.
    assert notices(client.get("/login")) == []


def test_idle_session_ends(client, tess, clock):
    log_in(client, "tess")
    clock.minutes = 29
    assert is_logged_in(client)
    clock.minutes = 58  # idle time counts from the last request, not from log-in
    assert is_logged_in(client)
    clock.minutes = 58 + 31
    assert_session_ended(client)


def test_session_ends_after_twelve_hours_however_active(client, tess, clock):
    log_in(client, "tess")
    while clock.minutes + 25 < 12 * 60:
        clock.minutes += 25
        assert is_logged_in(client), clock.minutes
    clock.minutes = 12 * 60 + 1
    assert_session_ended(client)


# --- throttles ------------------------------------------------------------------------------------


def test_account_locks_after_five_failures(client, other_client, tess):
    for _ in range(5):
        assert attempt(client, "tess", "not-the-right-password-at-all").status_code == 422
    # Now even the right password is refused, from any browser, with the answer an unknown account
    # gets (nothing may tell a stranger the account exists); the hint on the page suggests a reset.
    response = attempt(other_client, "tess@example.com")
    assert response.status_code == 422
    assert errors_on(response) == {"login": WRONG}
    assert html(response).css_first('#login-hint a[href="/forgot-password"]') is not None
    assert not is_logged_in(other_client)
    row = run(
        Account.select(Account.failed_logins, Account.locked_until).where(Account.id == tess.id).first().run()
    )
    assert row["failed_logins"] == 6 and row["locked_until"] is not None  # the refused try counts too


def test_four_failures_then_success_resets_the_count(client, tess):
    for _ in range(4):
        attempt(client, "tess", "not-the-right-password-at-all")
    assert attempt(client, "tess").status_code == 303
    row = run(Account.select(Account.failed_logins).where(Account.id == tess.id).first().run())
    assert row["failed_logins"] == 0


def test_ip_is_throttled_after_twenty_failures_across_accounts(client, tess):
    token = csrf_token(client, "/login")
    for number in range(20):
        data = {"_csrf_token": token, "login": f"guess{number}", "password": "not-the-right-password-at-all"}
        response = client.post("/login", data=data, follow_redirects=False)
        assert response.status_code == 422, number
    response = attempt(client, "tess")
    assert response.status_code == 429
    assert errors_on(response) == {
        "login": "Too many failed log-ins from your network. Wait 15 minutes, then try again."
    }
    assert not is_logged_in(client)


# --- CSRF -----------------------------------------------------------------------------------------


def test_post_without_a_valid_csrf_token_is_refused(client, other_client, tess):
    client.get("/login")  # the CSRF cookie is set, as in a browser
    someone_elses = csrf_token(other_client, "/login")  # valid, but for another browser's cookie
    data = {
        "login": "tess",
        "password": STRONG_PASSWORD,
        "username": "nina",
        "email": "nina@example.com",
        "first_name": "Nina",
        "last_name": "Newcomer",
    }
    for path in ("/login", "/register"):
        for token in (None, "wrong-token", someone_elses):
            body = data if token is None else {**data, "_csrf_token": token}
            response = client.post(path, data=body, follow_redirects=False)
            assert response.status_code == 403, (path, token)
            assert heading(response) == "You cannot do that"
    assert not is_logged_in(client)
    assert run(Account.count().run()) == 1


def test_htmx_post_with_the_token_in_the_header_works(client, tess):
    token = csrf_token(client, "/login")
    response = client.post(
        "/login",
        data={"login": "tess", "password": STRONG_PASSWORD},
        headers={"HX-Request": "true", "x-csrftoken": token},
        follow_redirects=False,
    )
    assert response.status_code == 200
    assert response.headers["hx-redirect"] == "/dashboard"
