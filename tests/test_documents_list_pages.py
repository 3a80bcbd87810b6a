"""A learner's documents page shows 20 documents a page, newest award first, with links to older and
newer pages; any page number, however odd, gives a page (never a 500), and only their own documents."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.client import log_in, run
from tests.support.factories import make_document, prepare_people
from tests.support.pages import html


def titles(page: Any) -> list[str]:
    return [a.text(strip=True) for a in html(page).css("main .cards .card-title a")]


def pager(page: Any) -> dict[str, str]:
    nav = html(page).css_first("nav.pagination")
    return {a.attributes["rel"] or "": a.attributes["href"] or "" for a in nav.css("a")} if nav else {}


def test_twenty_five_documents_make_two_pages_newest_first(client: Any) -> None:
    people = run(prepare_people())
    for n in range(1, 26):  # document n is awarded n months ago: 1 is the newest
        run(make_document(people.learner, n))
    run(make_document(people.other_learner, 1))
    log_in(client, "lena")

    first = client.get("/documents")
    assert first.status_code == 200
    assert titles(first) == [f"Certificate {n} of lena" for n in range(1, 21)]
    assert pager(first) == {"next": "/documents?page=2"}

    second = client.get("/documents?page=2")
    assert titles(second) == [f"Certificate {n} of lena" for n in range(21, 26)]
    assert pager(second) == {"prev": "/documents?page=1"}


@pytest.mark.parametrize("page", ["0", "-3", "99999999999999999999999", "abc", "2.5"])
def test_odd_page_numbers_never_fail(client: Any, page: str) -> None:
    people = run(prepare_people())
    run(make_document(people.learner, 1))
    log_in(client, "lena")
    answer = client.get(f"/documents?page={page}")
    assert answer.status_code in (200, 400), answer.status_code
    if answer.status_code == 200:
        assert "Certificate 1 of lena" in titles(answer) or titles(answer) == []
