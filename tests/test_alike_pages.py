"""Pages the same for every visitor but for the CSRF token (src/htmx.py, AlikePage): the log-in page
and the second step's form are rendered once per app and set of values, then each visitor gets the
page as it would have been rendered for them: their own token, the same bytes otherwise, and never
a flash message, a session-ended notice or a log-in of somebody else's. Nothing is kept where the
templates may change on disk (development), and no more than ALIKE_PAGES pages are kept."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar, MediaType, Request
from litestar.utils.scope.state import ScopeState

import src.htmx
from src.htmx import VARY, AlikePage
from src.tables.accounts import Account
from tests.support.client import fresh_client, log_in, post_form, run
from tests.support.factories import STRONG_PASSWORD, make_account, with_fast_password
from tests.support.pages import html, is_logged_in, notices
from tests.support.passkeys import authenticator
from tests.support.two_step import enrol, fresh_code
from tests.test_account_passkey_second_step import give_passkey
from tests.test_account_two_step import SECOND_STEP, password_step

MARK = b"<!-- kept -->"


@pytest.fixture
def pages(app: Litestar) -> Any:
    """The app's kept pages, empty at the start and the end of the test."""
    kept = app.template_engine.engine.alike_pages  # type: ignore[union-attr]
    kept.clear()
    yield kept
    kept.clear()


def token_of(page: Any) -> str:
    node = html(page).css_first('input[name="_csrf_token"]')
    assert node is not None
    return node.attributes["value"] or ""


def mark_kept(pages: Any) -> None:
    """Tag every kept page, so that an answer shows whether it came from them."""
    for key, (body, token) in list(pages.items()):
        pages[key] = (body + MARK, token)


def served_kept_and_anew(client: Any, pages: Any, path: str, **headers: str) -> tuple[Any, Any]:
    """The page as kept (a second request, from the tagged copy) and as rendered anew (nothing kept)."""
    first = client.get(path, headers=headers)
    assert first.status_code == 200 and len(pages) == 1
    mark_kept(pages)
    kept = client.get(path, headers=headers)
    assert kept.content.endswith(MARK), "the second request was rendered again, not served as kept"
    pages.clear()
    anew = client.get(path, headers=headers)
    assert not anew.content.endswith(MARK)
    return kept, anew


def test_each_visitor_gets_the_log_in_page_with_their_own_working_token(
    app, client, other_client, pages, tess
):
    first = client.get("/login")
    second = other_client.get("/login")
    mine, theirs = token_of(first), token_of(second)

    assert mine != theirs and len(pages) == 1
    assert theirs == other_client.cookies.get("portal_csrf")
    assert second.text == first.text.replace(mine, theirs)
    # The field of each form and the htmx header of the page: every place carries the visitor's own.
    assert second.text.count(theirs) == first.text.count(mine) >= 3
    assert mine not in second.text
    answer = post_form(other_client, "/login", {"login": "tess", "password": STRONG_PASSWORD})
    assert answer.status_code == 303 and is_logged_in(other_client)


@pytest.mark.parametrize(
    "path, headers",
    [
        ("/login", {}),
        ("/login?next=/connections", {}),
        ("/login", {"HX-Request": "true"}),
    ],
    ids=["page", "with-next", "htmx-form"],
)
def test_a_kept_log_in_page_is_the_page_rendered_anew(client, pages, path, headers):
    kept, anew = served_kept_and_anew(client, pages, path, **headers)
    assert kept.content.removesuffix(MARK) == anew.content
    assert kept.headers["content-type"] == anew.headers["content-type"]
    assert kept.headers["vary"] == anew.headers["vary"]


@pytest.mark.parametrize(
    "path, headers, passkey",
    [
        (SECOND_STEP, {}, False),
        (SECOND_STEP + "?recovery=true", {}, False),
        (SECOND_STEP, {"HX-Request": "true"}, False),
        (SECOND_STEP, {}, True),
    ],
    ids=["code", "recovery-code", "htmx-form", "code-and-passkey"],
)
def test_a_kept_second_step_page_is_the_page_rendered_anew(client, pages, tess, path, headers, passkey):
    run(enrol(tess))
    if passkey:
        give_passkey(tess, authenticator())
    password_step(client)
    pages.clear()  # the log-in page's
    kept, anew = served_kept_and_anew(client, pages, path, **headers)
    assert kept.content.removesuffix(MARK) == anew.content
    page = html(anew)
    assert (page.css_first("#second-step-form") is not None) and (b"passkeys.js" in anew.content) == passkey


def test_one_visitors_second_step_page_serves_the_next_with_their_own_token(app, client, pages, tess):
    run(enrol(tess))
    password_step(client)
    first = client.get(SECOND_STEP)
    other = fresh_client(app)
    password_step(other)
    second = other.get(SECOND_STEP)
    assert token_of(first) != token_of(second)
    assert second.text == first.text.replace(token_of(first), token_of(second))
    # The token works: the code goes through on the second browser.
    log_in_done = post_form(other, SECOND_STEP, {"code": run(fresh_code("tess"))}, token_from=SECOND_STEP)
    assert log_in_done.status_code == 303 and is_logged_in(other)


def test_a_flash_message_is_shown_to_its_visitor_only_and_never_kept(client, other_client, pages):
    plain = client.get("/login")
    assert len(pages) == 1 and notices(plain) == []

    told = other_client.get("/login?logged_out=true")  # the handler flashes "You have logged out."

    assert notices(told) == ["You have logged out."]
    assert len(pages) == 1  # not kept
    assert notices(client.get("/login")) == []
    assert notices(other_client.get("/login")) == []  # shown once, as flash messages are


def test_the_session_ended_notice_is_its_own_page(client, other_client, pages, tess):
    run(with_fast_password(tess))
    log_in(client, "tess")
    # The session ends on the server (a password change elsewhere): the next page says so once.
    run(Account.update({Account.session_epoch: Account.session_epoch + 1}).where(Account.id == tess.id))
    assert client.get("/dashboard", follow_redirects=False).status_code == 303
    ended = client.get("/login")
    assert "Your session ended" in ended.text
    assert "Your session ended" not in other_client.get("/login").text
    assert len(pages) == 2  # two sets of values: ended and not


def test_nothing_is_kept_while_templates_may_change_on_disk(app, client, pages, monkeypatch):
    monkeypatch.setattr(app.template_engine.engine, "auto_reload", True)
    client.get("/login")
    client.get("/login")
    assert len(pages) == 0


def test_no_more_than_the_bound_are_kept_and_the_oldest_goes_first(client, pages, monkeypatch):
    monkeypatch.setattr(src.htmx, "ALIKE_PAGES", 3)
    for n in range(5):
        client.get(f"/login?next=/n{n}")
    client.get("/login?next=/n2")  # used again: now the newest
    client.get("/login?next=/n5")
    nexts = [dict(key[1:])["next"] for key in pages]
    assert nexts == ["/n4", "/n2", "/n5"]


def _request(app: Litestar, user: Any) -> Request[Any, Any, Any]:
    scope: Any = {
        "type": "http",
        "app": app,
        "litestar_app": app,
        "method": "GET",
        "path": "/login",
        "raw_path": b"/login",
        "query_string": b"",
        "headers": [],
        "state": {},
        "session": {},
        "user": user,
        "path_params": {},
    }
    ScopeState.from_scope(scope).csrf_token = "a" * 128
    return Request(scope)


def test_a_logged_in_visitor_is_neither_given_nor_leaves_a_kept_page(app, pages):
    staff = run(make_account("staff", "Sam", password=None))

    def page(user: Any) -> bytes:
        context = {"values": {}, "errors": {}, "next": "", "ended": False}
        response = AlikePage(
            template_name="account/login.html", context=context, headers=VARY, media_type=MediaType.HTML
        ).to_asgi_response(None, _request(app, user))
        return response.body

    as_staff = page(staff)
    assert b"Log out" in as_staff and len(pages) == 0
    anyone = page(None)
    assert b"Log out" not in anyone and len(pages) == 1
    assert b"Log out" in page(staff)  # the kept page is not given to a logged-in visitor
