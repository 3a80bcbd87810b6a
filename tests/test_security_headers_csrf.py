"""Cross-cutting protections: security headers on every kind of response, HSTS and Secure cookies on
https, no-store on private pages, CSRF tokens and the Origin / Sec-Fetch-Site check, allowed hosts."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from http.cookies import SimpleCookie

import pytest
from litestar.testing import TestClient

from src.app import create_app
from tests.support.client import log_in, make_settings, post_form, run
from tests.support.factories import STRONG_PASSWORD, make_account
from tests.support.pages import csrf_token, html

HTTPS_BASE = "https://portal.example.test"


@pytest.fixture
def https_client(smtp_server, mailbox) -> Iterator[TestClient]:
    settings = make_settings(smtp_server.port, base_url=HTTPS_BASE, allowed_hosts="portal.example.test")
    assert "portal.example.test" in settings.host_names
    with TestClient(create_app(settings), base_url=HTTPS_BASE) as test_client:
        yield test_client


def csp_directives(response) -> dict[str, list[str]]:
    policy = response.headers["content-security-policy"]
    directives = {}
    for part in policy.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def assert_security_headers(response) -> None:
    csp = csp_directives(response)
    script_src = csp.get("script-src", csp.get("default-src"))
    assert script_src == ["'self'"]
    assert "'unsafe-inline'" not in csp.get("style-src", [])
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] in {
        "strict-origin-when-cross-origin",
        "no-referrer",
        "same-origin",
    }


def session_cookie(response, name: str = "portal_session") -> SimpleCookie:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{name}="):
            cookie = SimpleCookie()
            cookie.load(header)
            return cookie
    raise AssertionError(f"no session cookie in {response.headers.get_list('set-cookie')}")


# --- headers ----------------------------------------------------------------------------------


def test_security_headers_on_a_page(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert_security_headers(response)
    assert "strict-transport-security" not in response.headers


def test_security_headers_on_an_error_page(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert_security_headers(response)


def test_security_headers_on_a_static_file(client):
    response = client.get("/static/css/portal.css")
    assert response.status_code == 200
    assert_security_headers(response)


def test_security_headers_on_an_htmx_fragment(client):
    response = client.get("/login", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert html(response).css_first("main") is None
    assert_security_headers(response)


def test_security_headers_on_a_refused_unsafe_request(client):
    response = client.post("/login", data={"login": "x", "password": "y"}, follow_redirects=False)
    assert response.status_code == 403
    assert_security_headers(response)


def test_hsts_only_on_https(https_client):
    response = https_client.get("/login")
    assert response.status_code == 200
    assert_security_headers(response)
    hsts = response.headers["strict-transport-security"]
    max_age = int(hsts.split("max-age=")[1].split(";")[0])
    assert max_age >= 31536000
    assert https_client.get("/static/css/portal.css").headers["strict-transport-security"] == hsts


def test_private_pages_are_not_stored(client):
    run(make_account(username="tess"))
    log_in(client, "tess")
    for path in ("/profile", "/dashboard", "/profile/password", "/profile/delete", "/profile/addresses/new"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["cache-control"] == "no-store", path


def test_static_files_are_cached_for_a_year_and_immutable(client):
    page = html(client.get("/login"))
    for href in [
        page.css_first('link[rel="stylesheet"]').attributes["href"],
        page.css_first("script[src]").attributes["src"],
    ]:
        assert "?v=" in href  # the content hash in the URL is what makes "immutable" safe
        response = client.get(href)
        assert response.status_code == 200
        directives = {d.strip() for d in response.headers["cache-control"].split(",")}
        assert directives == {"public", "max-age=31536000", "immutable"}


def test_session_cookie_is_httponly_and_lax_and_not_secure_on_http(client):
    run(make_account(username="tess"))
    response = log_in(client, "tess")
    morsel = session_cookie(response)["portal_session"]
    assert morsel["httponly"] is True
    assert morsel["samesite"].lower() == "lax"
    assert not morsel["secure"]


def test_cookies_are_secure_and_host_prefixed_on_https(https_client):
    # On the app's own loop: with PostgreSQL, its pool belongs to that loop.
    https_client.blocking_portal.call(partial(make_account, username="tess"))
    first = https_client.get("/login")
    csrf = session_cookie(first, "__Host-portal_csrf")["__Host-portal_csrf"]
    response = post_form(https_client, "/login", {"login": "tess", "password": STRONG_PASSWORD})
    assert response.status_code == 303
    morsel = session_cookie(response, "__Host-portal_session")["__Host-portal_session"]
    # What the browser demands of a __Host- cookie: Secure, Path=/, no Domain.
    for cookie in (morsel, csrf):
        assert cookie["secure"] is True
        assert cookie["httponly"] is True
        assert cookie["samesite"].lower() == "lax"
        assert cookie["path"] == "/"
        assert not cookie["domain"]
    assert https_client.get("/profile", follow_redirects=False).status_code == 200
    assert not any(
        c.startswith("portal_")
        for c in response.headers.get_list("set-cookie") + first.headers.get_list("set-cookie")
    )


def test_cookies_keep_plain_names_on_http(client):
    run(make_account(username="tess"))
    response = log_in(client, "tess")
    assert session_cookie(response)["portal_session"]
    assert {c.name for c in client.cookies.jar} == {"portal_session", "portal_csrf", "portal_device"}


# --- CSRF and Origin --------------------------------------------------------------------------


def login_attempt(client, token: str | None, headers: dict[str, str] | None = None):
    data = {"login": "tess", "password": STRONG_PASSWORD}
    if token is not None:
        data["_csrf_token"] = token
    return client.post("/login", data=data, headers=headers or {}, follow_redirects=False)


def test_an_unsafe_request_without_a_token_is_refused(client):
    run(make_account(username="tess"))
    csrf_token(client)  # the browser has the CSRF cookie, but the form lacks the field
    response = login_attempt(client, None)
    assert response.status_code == 403
    assert html(response).css_first("main#main-content h1") is not None
    assert client.get("/profile", follow_redirects=False).status_code == 303


def test_an_unsafe_request_with_a_wrong_token_is_refused(client, other_client):
    run(make_account(username="tess"))
    token = csrf_token(client)
    response = login_attempt(client, token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"))
    assert response.status_code == 403
    # A token from another browser (another cookie) is no good either.
    assert login_attempt(client, csrf_token(other_client)).status_code == 403
    assert client.get("/profile", follow_redirects=False).status_code == 303


def test_the_token_in_the_htmx_header_is_accepted(client):
    run(make_account(username="tess"))
    token = csrf_token(client)
    response = client.post(
        "/login",
        data={"login": "tess", "password": STRONG_PASSWORD},
        headers={"HX-Request": "true", "x-csrftoken": token},
        follow_redirects=False,
    )
    assert response.status_code == 200
    assert response.headers["hx-redirect"] == "/dashboard"


def test_the_page_carries_the_token_for_htmx_requests(client):
    page = html(client.get("/login"))
    assert '"x-csrftoken"' in page.css_first("body").attributes["hx-headers"]
    assert csrf_token(client) in page.css_first("body").attributes["hx-headers"]


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://testserver.local.evil.example"},
    ],
)
def test_cross_site_requests_are_refused_even_with_a_valid_token(client, headers):
    run(make_account(username="tess"))
    token = csrf_token(client)
    response = login_attempt(client, token, headers)
    assert response.status_code == 403
    assert "portal_session" not in " ".join(response.headers.get_list("set-cookie"))
    assert client.get("/profile", follow_redirects=False).status_code == 303


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://testserver.local"},
        {"Sec-Fetch-Site": "same-origin", "Origin": "http://testserver.local"},
        {},
    ],
)
def test_same_origin_requests_are_accepted(client, headers):
    run(make_account(username="tess"))
    token = csrf_token(client)
    response = login_attempt(client, token, headers)
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard"


def test_logged_in_forms_need_the_token_too(client):
    account = run(make_account(username="tess"))
    log_in(client, "tess")
    response = client.post(
        "/profile/contacts", data={"kind": "phone", "value": "0113 496 0000"}, follow_redirects=False
    )
    assert response.status_code == 403
    response = client.post("/profile/delete", data={"password": STRONG_PASSWORD}, follow_redirects=False)
    assert response.status_code == 403
    from src.tables.accounts import Account, ContactDetail

    assert run(ContactDetail.count().run()) == 0
    assert (
        run(Account.select(Account.deleted_at).where(Account.id == account.id).first().run())["deleted_at"]
        is None
    )


# --- allowed hosts ----------------------------------------------------------------------------


def test_an_unknown_host_is_refused(client):
    response = client.get("/login", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert client.get("/login", headers={"Host": "testserver.local"}).status_code == 200


def test_forwarded_host_does_not_get_around_allowed_hosts(client):
    response = client.get("/login", headers={"Host": "evil.example", "X-Forwarded-Host": "testserver.local"})
    assert response.status_code == 400


# --- CSRF tokens belong to one session --------------------------------------------------------


def test_a_token_from_another_session_is_refused(client, other_client):
    """An attacker's own valid token and cookie (e.g. a cookie planted from a sibling subdomain)
    are no good in the victim's logged-in session."""
    run(make_account(username="tess"))
    run(make_account(username="mallory"))
    log_in(client, "tess")
    log_in(other_client, "mallory")
    mallory_token = csrf_token(other_client)
    planted = f"portal_session={client.cookies.get('portal_session')}; portal_csrf={mallory_token}"
    response = client.post(
        "/profile/contacts",
        data={"_csrf_token": mallory_token, "kind": "phone", "value": "0113 496 0000"},
        headers={"cookie": planted},
        follow_redirects=False,
    )
    assert response.status_code == 403
    from src.tables.accounts import ContactDetail

    assert run(ContactDetail.count().run()) == 0
    # The victim's own token still works.
    response = post_form(
        client, "/profile/contacts", {"kind": "phone", "value": "0113 496 0000"}, token_from="/profile"
    )
    assert response.status_code in {200, 303}
    assert run(ContactDetail.count().run()) == 1


def test_a_token_from_before_log_in_does_not_work_after_it(client):
    run(make_account(username="tess"))
    anonymous_token = csrf_token(client)
    log_in(client, "tess")
    response = client.post(
        "/profile/contacts",
        data={"_csrf_token": anonymous_token, "kind": "phone", "value": "0113 496 0000"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    # A page of the new session carries a new token, which works.
    assert csrf_token(client, "/profile") != anonymous_token
