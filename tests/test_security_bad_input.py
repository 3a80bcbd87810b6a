"""Hostile input never gets a 500: every route of the app, logged out and logged in as each role, is
fed NUL bytes, numbers out of range, odd Unicode and malformed CSRF tokens, in the path, the query
string, every form field the templates name, the CSRF header and the CSRF cookie."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from litestar.routes import HTTPRoute

from tests.support.client import log_in, run
from tests.support.factories import make_account
from tests.support.pages import csrf_token, html

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
HUGE = "99999999999999999999"
NUL = "a\x00b"
ODD = "\u0301\u202e\U0001f600\ufeff\uffff"  # lone combining mark, bidi override, emoji, BOM, non-character
BAD_UTF8 = "%ED%B3%BF%FF"  # an encoded lone surrogate and a byte that is never UTF-8
LONG_NON_ASCII_TOKEN = "é" * 70


def form_field_names() -> set[str]:
    """Every field name the templates can submit (macro calls and plain name="…" attributes)."""
    text = "\n".join(p.read_text() for p in TEMPLATES.rglob("*.html"))
    names = set(re.findall(r'name="([A-Za-z_][\w-]*)"', text))
    names |= set(re.findall(r'(?:field|password_field)\("([\w-]+)"', text))
    for prefix in re.findall(r'date_input\("([\w-]+)"', text):
        names |= {f"{prefix}-day", f"{prefix}-month", f"{prefix}-year"}
    names -= {"_csrf_token", "viewport", "htmx-config"}
    return names


def routes(app: Any) -> list[tuple[str, str, dict[str, type]]]:
    """(method, path template, {path parameter: type}) for every HTTP route handler of the app."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith("/static"):
            continue
        params = {name: p.type for name, p in route.path_parameters.items()}
        for method in sorted(route.methods):
            if method in {"GET", "POST"}:
                found.append((method, route.path, params))
    assert len(found) > 30, found  # the walk must really cover the app
    return found


def fill(path: str, params: dict[str, type], value_for: dict[type, str]) -> str:
    for name, kind in params.items():
        value = value_for.get(kind, quote(NUL))
        path = re.sub(r"\{" + re.escape(name) + r"(:[a-z]+)?\}", value, path)
    return path


PATH_VALUES = [
    {int: HUGE, str: quote(NUL)},
    {int: "-" + HUGE, str: quote(ODD)},
    {int: "2147483648", str: BAD_UTF8},
    {int: "1" * 5000, str: "x" * 3000},
]
QUERY = (
    "?"
    + "&".join(
        f"{name}={quote(value)}"
        for name, value in [
            ("next", NUL),
            ("q", NUL),
            ("show", ODD),
            ("page", HUGE),
            ("token", NUL),
            ("email", NUL),
        ]
    )
    + f"&q={BAD_UTF8}&page=-{HUGE}"
)


def assert_no_server_error(response: Any, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code}\n{response.text[:400]}"
    if response.status_code >= 400 and response.headers.get("content-type", "").startswith("text/html"):
        # The normal error page, not Litestar's bare text.
        assert html(response).css_first("h1") is not None, f"{what}: no error page"


def log_in_as(client: Any, role: str | None) -> None:
    if role is None:
        return
    run(make_account(role=role, username=f"{role.replace('_', '')}1"))
    log_in(client, f"{role.replace('_', '')}1")


@pytest.mark.parametrize("role", [None, "learner", "third_party", "staff"])
def test_no_route_answers_500_to_hostile_input(app, client, role):
    log_in_as(client, role)
    fields = form_field_names()
    for method, template, params in routes(app):
        for values in PATH_VALUES if params else [{}]:
            path = fill(template, params, values)
            if method == "GET":
                for target in (path, path + QUERY):
                    response = client.get(target, follow_redirects=False)
                    assert_no_server_error(response, f"{role} GET {target}")
                continue
            token = csrf_token(client)
            for value in (NUL, ODD, HUGE):
                data = {name: value for name in fields}
                response = client.post(
                    path + QUERY, data={**data, "_csrf_token": token}, follow_redirects=False
                )
                assert_no_server_error(response, f"{role} POST {path} with {value!r}")


def test_long_non_ascii_csrf_tokens_are_refused_not_crashed(app, client):
    """A token longer than Litestar's 64 characters with a non-ASCII character, in the form field,
    the header or the cookie, on every POST route: 403 with the normal error page."""
    token = csrf_token(client)
    cookie_name = next(c.name for c in client.cookies.jar if "csrf" in c.name)
    raw = LONG_NON_ASCII_TOKEN.encode()
    # The verifier API takes JSON with no cookie at all, and the public receipt check reads no
    # session and changes nothing, so they have no CSRF check (their own tests refuse these bodies);
    # every other form route has one.
    without_csrf = {
        route.path
        for route in app.routes
        for handler in getattr(route, "route_handlers", ())
        if handler.opt.get("exclude_from_csrf")
    }
    for method, template, params in routes(app):
        if method != "POST" or template in without_csrf:
            continue
        path = fill(template, params, {int: "1", str: "abc"})
        attempts = [
            ({"_csrf_token": LONG_NON_ASCII_TOKEN}, {}),
            ({}, {"x-csrftoken": raw}),
            ({"_csrf_token": token}, {"cookie": b"%s=%s" % (cookie_name.encode(), raw)}),
            ({"_csrf_token": token}, {"cookie": b"%s=%s" % (cookie_name.encode(), quote(raw).encode())}),
            ({"_csrf_token": token + "\u00e9"}, {}),
        ]
        for data, headers in attempts:
            response = client.post(path, data=data, headers=headers, follow_redirects=False)
            assert response.status_code == 403, f"POST {path} {data} {headers}: {response.status_code}"
            assert html(response).css_first("main#main-content h1").text(strip=True) == "You cannot do that"


def test_an_id_beyond_the_integer_range_is_404(client):
    run(make_account(role="learner", username="lena"))
    log_in(client, "lena")
    for path in (f"/connections/{HUGE}", "/connections/2147483648", f"/connections/{HUGE}/cancel"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 404, path
        assert html(response).css_first("main#main-content h1").text(strip=True) == "Page not found"


def test_a_nul_byte_is_a_400_with_the_error_page(client):
    response = client.get("/login?next=%00")
    assert response.status_code == 400
    assert html(response).css_first("main#main-content h1").text(strip=True) == "Bad request"
    token = csrf_token(client)
    response = client.post(
        "/login", data={"_csrf_token": token, "login": "te\x00ss", "password": "x"}, follow_redirects=False
    )
    assert response.status_code == 400
    assert html(response).css_first("main#main-content h1").text(strip=True) == "Bad request"
