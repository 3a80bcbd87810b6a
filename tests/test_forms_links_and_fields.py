"""The form and link conventions, checked rather than trusted: templates, pages and emails alike,
build internal links with url_for from named routes (no hand-written paths), every route has a name
and every name a template uses exists; a refusal lands beside the field it names; checkbox lists are read once, whole numbers
only; one paging helper."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar import Router, get, post

from src import audit
from src import connections as actions
from src.audit import AuditAction
from src.connections import place_refusal
from src.db import Paging
from src.documents import issue
from src.errors import Refused
from src.forms import Form
from src.routes.reloads import RELOAD, reload_handlers
from src.tables.accounts import Account
from src.tables.connections import Connection
from tests.support.client import log_in, post_form, run
from tests.support.factories import make_account
from tests.support.pages import errors_on, html

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
# A literal internal path in a link, a form action, an htmx request or a hidden field's value.
HAND_WRITTEN = re.compile(r"""\b(href|action|hx-(?:get|post|put|patch|delete)|value|src)\s*=\s*["']\s*/""")
# In an email a link is BASE_URL then a path: one written by hand follows `base_url` straight away.
HAND_WRITTEN_AFTER_BASE = re.compile(r"""\{\{-?\s*base_url\s*-?\}\}\s*(?:/|\{\{)""")
URL_FOR = re.compile(r"""url_for\(\s*['"]([A-Za-z0-9_]+)['"]""")


def all_templates() -> list[Path]:
    """Every template: the pages a browser gets and the emails (their HTML and text parts)."""
    pages = list(TEMPLATES.rglob("*.html"))
    emails = list((TEMPLATES / "emails").glob("*.txt"))
    assert len(pages) > 30 and len(emails) > 30, (pages, emails)  # the walk found the tree
    return pages + emails


def hand_written_paths(text: str) -> list[str]:
    return [m.group(0) for m in (*HAND_WRITTEN.finditer(text), *HAND_WRITTEN_AFTER_BASE.finditer(text))]


def test_the_check_finds_a_hand_written_path() -> None:
    assert hand_written_paths('<a href="/connections">x</a>') == ['href="/']
    assert hand_written_paths("<form method='post' action='/share'>") == ["action='/"]
    assert hand_written_paths('<input type="hidden" name="return_to" value="/connections">')
    assert not hand_written_paths("""<a href="{{ url_for('connections') }}">""")
    assert not hand_written_paths('<a href="#main-content"> <a href="mailto:x@example.com">')
    # Emails: BASE_URL followed by a path, written out or carried in the row.
    assert hand_written_paths("Open it: {{ base_url }}/connections/{{ connection_id }}") == [
        "{{ base_url }}/"
    ]
    assert hand_written_paths('<a href="{{ base_url }}{{ path }}">') == ["{{ base_url }}{{"]
    assert not hand_written_paths("{{ url_for('connection', connection_id=connection_id) }}")
    assert not hand_written_paths("your account at {{ base_url }}.")


def test_no_template_has_a_hand_written_internal_path() -> None:
    offenders = {
        str(path.relative_to(TEMPLATES)): found
        for path in all_templates()
        if (found := hand_written_paths(path.read_text()))
    }
    assert offenders == {}


def test_every_route_has_a_name_and_every_name_a_template_uses_exists(app: Any) -> None:
    ours = [
        handler
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if handler.fn.__module__.startswith("src.routes.")
    ]
    assert len(ours) > 40
    assert [h.fn.__qualname__ for h in ours if not h.name] == []

    used = {name for path in all_templates() for name in URL_FOR.findall(path.read_text())}
    assert len(used) > 30
    assert sorted(name for name in used if app.get_handler_index_by_name(name) is None) == []


def test_a_reload_is_declared_on_its_post_route_and_its_get_is_made_from_that(app: Any) -> None:
    declared = {
        route.path: handler.opt[RELOAD]
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if RELOAD in handler.opt
    }
    assert len(declared) > 20
    for route in app.routes:
        if route.path in declared:
            assert "GET" in route.methods, route.path
            assert app.get_handler_index_by_name(declared[route.path]) is not None, route.path

    @post("/things/{thing_id:int}", opt={RELOAD: "home"}, sync_to_thread=False)
    def change_thing(thing_id: int) -> None: ...

    @get("/things/{thing_id:int}", sync_to_thread=False)
    def show_thing(thing_id: int) -> None: ...

    assert [h.paths for h in reload_handlers(Router("/", route_handlers=[change_thing]).routes)] == [
        {"/things/{thing_id:int}"}
    ]
    # An address that answers GET itself needs no reload: declaring one is a mistake, caught at start.
    with pytest.raises(ValueError, match="POST-only"):
        reload_handlers(Router("/", route_handlers=[change_thing, show_thing]).routes)


def test_links_by_name_give_the_paths_people_know(app: Any) -> None:
    assert app.route_reverse("connections") == "/connections"
    assert app.route_reverse("connection", connection_id=7) == "/connections/7"
    assert app.route_reverse("send_extension_request", connection_id=7) == "/connections/7/extension"
    assert app.route_reverse("set_new_password", token="abc.def") == "/reset-password/abc.def"
    assert app.route_reverse("home") == "/"


# --- a refusal goes beside the field it names ---------------------------------------------------


def test_place_refusal_uses_the_field_the_refusal_names() -> None:
    form = Form(values={})
    place_refusal(form, Refused("Choose at least one of your documents", "documents"), default="email")
    assert form.errors == {"documents": "Choose at least one of your documents"}

    renamed = Form(values={})
    refusal = Refused("The new date must be later than the current end date", "expires_on")
    place_refusal(renamed, refusal, default="extend_to", renamed={"expires_on": "extend_to"})
    assert renamed.errors == {"extend_to": "The new date must be later than the current end date"}

    no_field = Form(values={})
    place_refusal(no_field, Refused("The offer ended"), default="connection")
    assert no_field.errors == {"connection": "The offer ended"}


def test_a_refused_document_on_accept_is_shown_beside_the_documents(client: Any, day: date) -> None:
    """The action refuses another learner's document (field "documents"); the page used to put that
    under the date."""
    lena = run(make_account("learner", "lena", first_name="Lena", last_name="Lovelace"))
    olga = run(make_account("learner", "olga", password=None, first_name="Olga", last_name="Other"))
    tess = run(make_account("third_party", "tess", password=None, company_name="Acme Care"))
    not_hers = run(issue(olga, "Olga's Diploma", "APC-9", day - timedelta(days=10)))
    asked = run(actions.add_connection(tess, lena.email, "Please", day))
    log_in(client, "lena")
    path = f"/connections/{asked.id}"
    until = day + timedelta(days=10)

    response = post_form(
        client,
        f"{path}/accept",
        {
            "documents": str(not_hers.id),
            "expires_on-day": str(until.day),
            "expires_on-month": str(until.month),
            "expires_on-year": str(until.year),
        },
        token_from=path,
    )

    assert response.status_code == 422
    assert errors_on(response) == {"documents": "Choose at least one of your documents"}
    summary = html(response).css_first(".error-summary a")
    assert summary.attributes["href"] == "#documents"
    assert html(response).css_first("#expires_on-day").attributes["value"] == str(until.day)
    assert run(Connection.select(Connection.state).where(Connection.id == asked.id).first())["state"] == (
        "awaiting_learner"
    )


def test_a_refused_share_to_oneself_is_shown_beside_the_email(client: Any, day: date) -> None:
    lena: Account = run(make_account("learner", "lena", first_name="Lena", last_name="Lovelace"))
    mine = run(issue(lena, "Level 3 Diploma", "APC-1", day - timedelta(days=10)))
    log_in(client, "lena")
    until = day + timedelta(days=10)

    response = post_form(
        client,
        "/share",
        {
            "email": lena.email.upper(),
            "documents": str(mine.id),
            "expires_on-day": str(until.day),
            "expires_on-month": str(until.month),
            "expires_on-year": str(until.year),
        },
        token_from="/share",
    )

    assert response.status_code == 422
    assert list(errors_on(response)) == ["email"]
    ticked = [i.attributes["value"] for i in html(response).css('input[name="documents"][checked]')]
    assert ticked == [str(mine.id)]


# --- checkbox lists and paging --------------------------------------------------------------------


def test_checkbox_ids_are_whole_numbers_read_from_every_value() -> None:
    form = Form(values={"documents": "9"}, lists={"documents": ["3", "x", "²", "-1", "9", " 4"]})
    assert form.ids("documents") == [3, 9]
    assert Form(values={}).ids("documents") == []
    many = Form(values={}, lists={"documents": [str(n) for n in range(500)]})
    assert many.ids("documents") == list(range(200))


def test_paging_clamps_the_page_and_tells_whether_more_follow() -> None:
    assert Paging.of(0, 25).page == 1
    assert Paging.of(-5, 25).page == 1
    assert Paging.of(10**9, 25, last=400).page == 400
    paging = Paging.of(2, 3)
    assert paging.cut([1, 2, 3, 4]) == ([1, 2, 3], True)
    assert paging.cut([1, 2, 3]) == ([1, 2, 3], False)


def test_activity_pages_by_fifty_with_newer_and_older_links(client: Any, day: date) -> None:
    lena = run(make_account("learner", "lena", first_name="Lena", last_name="Lovelace"))
    tess = run(make_account("third_party", "tess", password=None, company_name="Acme Care"))
    connection = run(actions.add_connection(tess, lena.email, "", day))
    for n in range(51):
        run(audit.record(AuditAction.viewed_documents, lena, connection=connection.id, detail=f"event {n}"))
    log_in(client, "lena")

    first = html(client.get("/activity"))
    assert len(first.css("#activity-list li")) == 50
    assert [a.attributes["href"] for a in first.css(".pagination a")] == ["/activity?page=2"]

    second = html(client.get("/activity?page=2"))
    assert len(second.css("#activity-list li")) == 2  # the 51st event, and the request itself
    assert [a.attributes["href"] for a in second.css(".pagination a")] == ["/activity?page=1"]
