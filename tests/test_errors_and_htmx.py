"""Error pages (a whole page for a normal request, a fragment for htmx, never a traceback), htmx
requests that need a log-in, and compression that never touches answers echoing the request."""

from __future__ import annotations

import sqlite3
from urllib.parse import parse_qs, urlsplit

import pytest

import src.routes.home
from src.compression import BROTLI_FROM
from tests.support.client import browsing, log_in, post_form, run
from tests.support.factories import make_account, make_document, prepare_people
from tests.support.pages import csrf_token, html

HTMX = {"HX-Request": "true"}


def assert_full_error_page(response, status: int, heading: str) -> None:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    page = html(response)
    assert "<html" in response.text.lower()
    assert page.css_first("header.site-header") is not None
    assert page.css_first("main#main-content h1").text(strip=True) == heading
    assert f"Error {status}" in page.css_first("main#main-content").text()
    assert page.css_first("title").text().startswith(heading)


def assert_error_fragment(response, status: int, heading: str) -> None:
    assert response.status_code == status
    assert "HX-Request" in response.headers["vary"]
    page = html(response)
    assert "<html" not in response.text.lower()
    assert page.css_first("header") is None
    assert page.css_first("main") is None
    assert page.css_first("h1").text(strip=True) == heading
    assert page.css_first('[role="alert"]') is not None


def test_unknown_path_is_a_full_404_page(client):
    assert_full_error_page(client.get("/no/such/page"), 404, "Page not found")


def test_unknown_path_for_htmx_is_a_404_fragment(client):
    assert_error_fragment(client.get("/no/such/page", headers=HTMX), 404, "Page not found")


def test_a_boosted_request_gets_the_whole_404_page(client):
    response = client.get("/no/such/page", headers={**HTMX, "HX-Boosted": "true"})
    assert_full_error_page(response, 404, "Page not found")


def test_a_404_page_for_a_logged_in_person_still_renders(client):
    run(make_account(username="tess"))
    log_in(client, "tess")
    assert_full_error_page(client.get("/nothing-here"), 404, "Page not found")
    # A 404 raised inside a route (someone else's address) knows who is logged in.
    page = html(client.get("/profile/addresses/999999/edit"))
    assert page.css_first('nav[aria-label="Account"] a[href="/profile"]') is not None


def test_a_missing_static_file_is_404(client):
    response = client.get("/static/css/nope.css")
    assert response.status_code == 404


def test_wrong_method_is_405(client):
    # (GET on a form's POST-only address goes to the form instead: see test_connections_wording.py.)
    response = client.put("/login")
    assert_full_error_page(response, 405, "Not allowed")
    assert_error_fragment(client.put("/login", headers=HTMX), 405, "Not allowed")


def test_an_oversized_body_is_413(client):
    token = csrf_token(client)
    response = client.post(
        "/login",
        data={"_csrf_token": token, "login": "x" * (80 * 1024), "password": "y"},
        follow_redirects=False,
    )
    assert_full_error_page(response, 413, "Too much data")
    response = client.post(
        "/login",
        data={"_csrf_token": token, "login": "x" * (80 * 1024), "password": "y"},
        headers=HTMX,
        follow_redirects=False,
    )
    assert_error_fragment(response, 413, "Too much data")


def test_a_crash_shows_the_friendly_500_page_without_a_traceback(app, mailbox, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("secret internals: /srv/portal/src/routes/home.py line 42")

    monkeypatch.setattr(src.routes.home, "render", broken)
    with browsing(app, raise_server_exceptions=False) as test_client:
        response = test_client.get("/")
        assert_full_error_page(response, 500, "Sorry, there is a problem with the service")
        for leak in ("Traceback", "RuntimeError", "secret internals", "home.py"):
            assert leak not in response.text
        assert response.headers["cache-control"] == "no-store"
        assert "content-security-policy" in response.headers
        response = test_client.get("/", headers=HTMX)
        assert_error_fragment(response, 500, "Sorry, there is a problem with the service")
        assert "secret internals" not in response.text


@pytest.mark.parametrize(
    "failure",
    [sqlite3.OperationalError("database is locked"), ConnectionRefusedError(111, "Connection refused")],
    ids=["sqlite-locked", "postgres-unreachable"],
)
def test_a_busy_or_unreachable_database_shows_the_503_page(app, mailbox, monkeypatch, failure):
    def unavailable(*args, **kwargs):
        raise failure

    monkeypatch.setattr(src.routes.home, "render", unavailable)
    with browsing(app, raise_server_exceptions=False) as test_client:
        response = test_client.get("/")
        assert_full_error_page(response, 503, "Sorry, the service is unavailable")
        assert response.headers["retry-after"] == "30"
        assert "locked" not in response.text and "refused" not in response.text
        response = test_client.get("/", headers=HTMX)
        assert_error_fragment(response, 503, "Sorry, the service is unavailable")


@pytest.mark.parametrize("path", ["/profile", "/dashboard", "/profile/addresses/new"])
def test_htmx_requests_that_need_a_login_get_hx_redirect(client, path):
    response = client.get(path, headers=HTMX, follow_redirects=False)
    assert response.status_code in {200, 204}
    assert response.headers["hx-redirect"] == f"/login?next={path}"
    assert response.text == ""


def test_htmx_redirect_goes_back_to_the_page_the_person_was_on(client):
    response = client.post(
        "/profile/contacts",
        data={"_csrf_token": csrf_token(client), "kind": "phone", "value": "0113 496 0000"},
        headers={**HTMX, "HX-Current-URL": "http://testserver.local/profile?tab=1"},
        follow_redirects=False,
    )
    assert response.status_code in {200, 204}
    target = urlsplit(response.headers["hx-redirect"])
    assert target.path == "/login"
    assert parse_qs(target.query) == {"next": ["/profile?tab=1"]}


def test_an_ended_session_gets_hx_redirect_not_a_login_page_in_a_fragment(client):
    run(make_account(username="tess"))
    log_in(client, "tess")
    # Logging out in the same browser ends the session; the next htmx request is sent to log in.
    post_form(client, "/logout", {}, token_from="/profile")
    response = client.get("/profile", headers=HTMX, follow_redirects=False)
    assert response.headers["hx-redirect"] == "/login?next=/profile"
    assert html(response).css_first("form#login-form") is None


def test_no_js_requests_that_need_a_login_are_redirected(client):
    response = client.get("/dashboard", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/dashboard"


def test_next_keeps_the_query_string(client):
    response = client.get("/profile/addresses/new?from=dashboard", follow_redirects=False)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/login?next=/profile/addresses/new")
    assert "from" in location


# --- compression (BREACH) ---------------------------------------------------------------------


def raw_get(client, path: str, **headers: str):
    return client.get(path, headers={"Accept-Encoding": "gzip", **headers}, follow_redirects=False)


def test_a_page_is_compressed(client):
    response = raw_get(client, "/register")
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["vary"]
    assert int(response.headers["content-length"]) < len(response.content)  # httpx decoded it
    assert html(response).css_first("form#register-form") is not None


def test_a_post_answer_echoing_input_is_not_compressed(client):
    token = csrf_token(client)
    response = client.post(
        "/login",
        data={"_csrf_token": token, "login": "attacker-chosen-guess", "password": "wrong-password-x"},
        headers={"Accept-Encoding": "gzip"},
        follow_redirects=False,
    )
    assert response.status_code == 422
    assert "content-encoding" not in response.headers
    assert html(response).css_first("#login").attributes["value"] == "attacker-chosen-guess"
    assert html(response).css_first('input[name="_csrf_token"]') is not None


def test_a_get_with_a_query_string_is_not_compressed(client):
    response = raw_get(client, "/login?next=/profile")
    assert response.status_code == 200
    assert "content-encoding" not in response.headers
    assert html(response).css_first('input[name="next"]').attributes["value"] == "/profile"


def test_static_css_and_javascript_are_compressed(client):
    page = html(client.get("/login"))
    css = page.css_first('link[rel="stylesheet"]').attributes["href"]
    js = page.css_first("script[src]").attributes["src"]
    for href in (css, js):
        assert "?v=" in href
        response = raw_get(client, href)
        assert response.status_code == 200
        assert response.headers["content-encoding"] == "gzip", href
        assert int(response.headers["content-length"]) < len(response.content)


def test_a_large_page_goes_as_brotli_smaller_than_gzip(client):
    people = run(prepare_people())
    for n in range(1, 21):
        run(make_document(people.learner, n))
    log_in(client, "lena")
    response = client.get("/documents", headers={"Accept-Encoding": "br, gzip"}, follow_redirects=False)
    assert response.status_code == 200
    assert len(response.content) >= BROTLI_FROM  # httpx decoded it: this is the page's real size
    assert response.headers["content-encoding"] == "br"
    assert "Accept-Encoding" in response.headers["vary"]
    assert int(response.headers["content-length"]) < len(response.content)
    assert len(html(response).css("main .cards .card-title a")) == 20
    # what went over the wire is brotli, and smaller than the gzip answer
    gzip_answer = raw_get(client, "/documents")
    assert gzip_answer.headers["content-encoding"] == "gzip"
    assert int(response.headers["content-length"]) < int(gzip_answer.headers["content-length"])


def test_a_small_page_goes_as_gzip_unless_brotli_is_all_the_browser_takes(client):
    both = client.get("/verify", headers={"Accept-Encoding": "br, gzip"}, follow_redirects=False)
    assert both.status_code == 200
    assert 500 < len(both.content) < BROTLI_FROM
    assert both.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in both.headers["vary"]
    only_brotli = client.get("/verify", headers={"Accept-Encoding": "br"}, follow_redirects=False)
    assert only_brotli.headers["content-encoding"] == "br"
    assert int(only_brotli.headers["content-length"]) < len(only_brotli.content)
    # the same page whichever way it travelled
    assert html(both).css_first("form") is not None
    assert both.text == only_brotli.text


def test_a_post_answer_is_not_compressed_with_brotli_either(client):
    token = csrf_token(client)
    response = client.post(
        "/login",
        data={"_csrf_token": token, "login": "attacker-chosen-guess", "password": "wrong-password-x"},
        headers={"Accept-Encoding": "br, gzip"},
        follow_redirects=False,
    )
    assert response.status_code == 422
    assert "content-encoding" not in response.headers
