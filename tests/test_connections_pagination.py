"""The connections list by keyset (`?after=`/`?before=` a connection id): next and previous pages, the
last page, a garbage cursor (the first page, never a 500), search and filter kept while paging, htmx;
and the number of statements a list page runs (at most four, counting the session's account lookup),
so that per-row queries cannot creep back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

import pytest

from src.db import statements_run
from src.tables.accounts import Account
from src.tables.connections import Connection, ExtensionRequest
from tests.support.client import log_in, run
from tests.support.factories import make_account
from tests.support.pages import html

TOTAL = 60  # 25 + 25 + 10


def row_ids(response: Any) -> list[int]:
    return [
        int((li.attributes["id"] or "").removeprefix("connection-"))
        for li in html(response).css("ul.connections > li.connection")
    ]


def link(response: Any, rel: str) -> str | None:
    anchor = html(response).css_first(f'.pagination a[rel="{rel}"]')
    return None if anchor is None else anchor.attributes["href"]


def waiting_for_learners(tess: Account, count: int, prefix: str = "learner") -> list[int]:
    run(
        Connection.insert(
            *[
                Connection(
                    third_party=tess.id,
                    third_party_email=tess.email,
                    learner_email=f"{prefix}{n}@example.com",
                    started_by="third_party",
                    state="awaiting_learner",
                )
                for n in range(count)
            ]
        )
    )
    rows = run(Connection.select(Connection.id).where(Connection.third_party == tess.id))
    return sorted((row["id"] for row in rows), reverse=True)


@pytest.fixture
def sixty(client: Any, tess: Account) -> list[int]:
    """60 of Tess's requests waiting for learners, newest id first; Tess is logged in."""
    ids = waiting_for_learners(tess, TOTAL)
    log_in(client, "tess")
    return ids


def test_next_links_walk_every_row_once_newest_first_and_the_last_page_has_no_next(
    client: Any, sixty: list[int]
) -> None:
    seen: list[int] = []
    response = client.get("/connections")
    assert link(response, "prev") is None
    sizes = []
    while True:
        ids = row_ids(response)
        sizes.append(len(ids))
        seen += ids
        nxt = link(response, "next")
        if nxt is None:
            break
        assert "after=" in nxt and "page=" not in nxt
        response = client.get(nxt)
        assert response.status_code == 200
        assert link(response, "prev") is not None
    assert sizes == [25, 25, 10]
    assert seen == sixty


def test_previous_goes_back_to_the_same_rows_and_to_a_first_page_without_previous(
    client: Any, sixty: list[int]
) -> None:
    first = client.get("/connections")
    second = client.get(link(first, "next"))
    third = client.get(link(second, "next"))
    back_to_second = client.get(link(third, "prev"))
    assert row_ids(back_to_second) == row_ids(second)
    back_to_first = client.get(link(back_to_second, "prev"))
    assert row_ids(back_to_first) == row_ids(first) == sixty[:25]
    assert link(back_to_first, "prev") is None
    assert link(back_to_first, "next") is not None


def test_previous_from_the_second_page_is_the_first_page_without_previous(
    client: Any, sixty: list[int]
) -> None:
    response = client.get(f"/connections?before={sixty[25]}")
    assert row_ids(response) == sixty[:25]
    assert link(response, "prev") is None and link(response, "next") is not None


def test_previous_from_a_short_newer_run_gives_a_full_first_page(client: Any, sixty: list[int]) -> None:
    """`before=` with fewer than a page of newer rows is the first page, read as a full page."""
    response = client.get(f"/connections?before={sixty[3]}")
    assert response.status_code == 200
    assert row_ids(response) == sixty[:25]
    assert link(response, "prev") is None


def test_a_cursor_past_the_end_shows_an_empty_last_page(client: Any, sixty: list[int]) -> None:
    response = client.get(f"/connections?after={sixty[-1]}")
    assert response.status_code == 200
    assert row_ids(response) == []
    assert link(response, "next") is None


@pytest.mark.parametrize(
    "cursor",
    ["abc", "-5", "0", "1.5", "", "99999999999999999999", "2147483648", "%EF%BC%91", "1e3", "%20%2012"],
)
def test_a_garbage_cursor_gives_the_first_page(client: Any, sixty: list[int], cursor: str) -> None:
    for name in ("after", "before"):
        response = client.get(f"/connections?{name}={cursor}")
        assert response.status_code == 200, (name, cursor, response.status_code)
        if cursor != "%20%2012":  # " 12" is the id 12, after trimming
            assert row_ids(response) == sixty[:25], (name, cursor)


def test_search_and_filter_are_kept_while_paging(client: Any, tess: Account) -> None:
    matching = waiting_for_learners(tess, 30, prefix="findme")
    waiting_for_learners(tess, 30, prefix="other")
    matching = sorted(
        row["id"]
        for row in run(
            Connection.select(Connection.id).where(
                (Connection.third_party == tess.id) & Connection.learner_email.like("findme%")
            )
        )
    )[::-1]
    log_in(client, "tess")
    first = client.get("/connections?show=waiting&q=FINDME")
    assert row_ids(first) == matching[:25]
    nxt = link(first, "next")
    assert nxt is not None and "q=FINDME" in nxt and "show=waiting" in nxt
    second = client.get(nxt)
    assert row_ids(second) == matching[25:]
    assert link(second, "next") is None
    assert row_ids(client.get(link(second, "prev"))) == matching[:25]


def test_htmx_paging_answers_the_list_alone_and_links_work_without_js(client: Any, sixty: list[int]) -> None:
    first = client.get("/connections")
    anchor = html(first).css_first('.pagination a[rel="next"]')
    assert anchor.attributes["hx-get"] == anchor.attributes["href"]
    assert anchor.attributes["hx-target"] == "#connection-list"
    fragment = client.get(anchor.attributes["href"], headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    tree = html(fragment)
    assert tree.css_first("#connection-list") is not None and tree.css_first("h1") is None
    assert row_ids(fragment) == sixty[25:50]


# --- statements per page ----------------------------------------------------------------------


@contextmanager
def counted() -> Iterator[list[str]]:
    """The page's statements run meanwhile (src.db.statements_run), without the mail worker's polls."""
    with statements_run() as seen:
        mine: list[str] = []
        yield mine
        mine.extend(sql for sql in seen if "outbox_email" not in sql)


def busy_list(tess: Account, learner: Account, day: date) -> None:
    """Rows of every kind on the page: with and without a learner account, with shared documents
    and a pending request for more time, so that a per-row query would show."""
    ids = waiting_for_learners(tess, 30)
    for n, connection_id in enumerate(ids[:10]):
        run(
            Connection.update(
                {
                    Connection.learner: learner.id,
                    Connection.state: "active",
                    Connection.expires_on: day + timedelta(days=10 + n),
                }
            ).where(Connection.id == connection_id)
        )
        run(
            ExtensionRequest.insert(
                ExtensionRequest(
                    connection=connection_id, requested_by=tess.id, wanted_until=day + timedelta(days=90)
                )
            )
        )


@pytest.mark.parametrize(
    "address",
    [
        "/connections",
        "/connections?show=active",
        "/connections?show=waiting",
        "/connections?show=ended",
        "/connections?q=learner1",
        "/connections?q=Lovelace",
        "AFTER",
        "BEFORE",
    ],
)
@pytest.mark.parametrize("who", ["third_party", "learner"])
@pytest.mark.parametrize("htmx", [False, True])
def test_a_list_page_runs_at_most_four_statements(
    client: Any, tess: Account, day: date, address: str, who: str, htmx: bool
) -> None:
    lena = run(make_account("learner", "lena", first_name="Lena", last_name="Lovelace"))
    busy_list(tess, lena, day)
    log_in(client, "tess" if who == "third_party" else "lena")
    first = client.get("/connections")
    if address == "AFTER":
        address = link(first, "next") or f"/connections?after={row_ids(first)[-1]}"
    elif address == "BEFORE":  # "Previous page" from the second page
        second = client.get(link(first, "next") or "/connections")
        address = link(second, "prev") or f"/connections?before={row_ids(first)[-1]}"
    headers = {"HX-Request": "true"} if htmx else {}
    client.get(address, headers=headers)  # once to settle the session, then counted
    with counted() as statements:
        response = client.get(address, headers=headers)
    assert response.status_code == 200
    # The session's account, the page of rows and the counts: every one of them is counted.
    assert any('"account"' in sql for sql in statements), statements
    assert any("LIMIT" in sql and '"connection"' in sql for sql in statements), statements
    assert len(statements) <= 4, "\n\n".join(statements)
    if who == "learner" and address == "/connections":
        assert len(row_ids(response)) == 10


def test_the_counts_above_the_list_are_one_statement(client: Any, tess: Account, day: date) -> None:
    lena = run(make_account("learner", "lena", first_name="Lena", last_name="Lovelace"))
    busy_list(tess, lena, day)
    log_in(client, "lena")
    with counted() as statements:
        response = client.get(f"/connections?q={quote('Tess')}")
    assert response.status_code == 200
    counts = html(response).css_first("#connection-counts").text()
    assert "10 active" in " ".join(counts.split())
    assert "10 asking for more time" in " ".join(counts.split())
    assert len([s for s in statements if "connection_tally" in s]) == 1


# --- search: by name and email, through the trigram indexes, kept current -------------------------


def test_search_finds_a_part_of_a_name_or_email_and_follows_changes(
    client: Any, tess: Account, day: date
) -> None:
    lena = run(make_account("learner", "lena", first_name="Lena", last_name="Gallagher", password=None))
    run(
        Connection.insert(
            Connection(
                third_party=tess.id,
                third_party_email=tess.email,
                learner=lena.id,
                learner_email="lena.g@example.com",
                started_by="learner",
                state="active",
                expires_on=day + timedelta(days=5),
            ),
            Connection(
                third_party=tess.id,
                third_party_email=tess.email,
                learner_email="someone.o'brien@example.org",
                started_by="third_party",
                state="awaiting_learner",
            ),
        )
    )
    log_in(client, "tess")
    for term, found in (("allag", 1), ("GALLAGHER", 1), ("o'brien", 1), ("example", 2), ('"x', 0), ("la", 1)):
        response = client.get(f"/connections?q={quote(term)}")
        assert response.status_code == 200, term
        assert len(row_ids(response)) == found, term
    run(Account.update({Account.last_name: "Okafor"}).where(Account.id == lena.id))
    assert row_ids(client.get("/connections?q=gallagher")) == []
    assert len(row_ids(client.get("/connections?q=okaf"))) == 1
    run(
        Connection.update({Connection.learner_email: "renamed@example.net"}).where(
            Connection.learner_email.like("someone%")
        )
    )
    assert len(row_ids(client.get("/connections?q=renamed"))) == 1
    assert row_ids(client.get("/connections?q=brien")) == []


def test_a_learner_finds_a_third_party_by_company(client: Any, tess: Account, day: date) -> None:
    lena = run(make_account("learner", "lena", first_name="Lena", last_name="Lovelace"))
    busy_list(tess, lena, day)
    log_in(client, "lena")
    company = run(Account.select(Account.company_name).where(Account.id == tess.id))[0]["company_name"]
    response = client.get(f"/connections?q={quote(company[1:6])}")
    assert len(row_ids(response)) == 10
    assert row_ids(client.get("/connections?q=nobody-at-all")) == []
