"""Connections for a third party, over HTTP: the dashboard, the list (filter, search, pages), accept
and decline with and without htmx, viewing shared documents, asking for more time, cancelling, and
Add Connection (no enumeration, duplicates refused, rate limited, attached once the learner exists)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest

from src import connections as actions
from src.documents import issue
from src.tables.accounts import Account
from src.tables.connections import AccessEvent, Connection, ExtensionRequest
from tests.support.client import log_in, post_form, run
from tests.support.clocks import date_fields, fmt
from tests.support.factories import STRONG_PASSWORD, make_account
from tests.support.pages import errors_on, html
from tests.support.smtp import link_in


def person(username: str, first: str, last: str) -> Account:
    """A learner who never logs in here (no password: no slow hash)."""
    return run(make_account("learner", username, password=None, first_name=first, last_name=last))


@pytest.fixture
def learner(client: Any) -> Account:
    """Lena Lovelace, who shares documents with Tess but never logs in here (`client` is Tess's)."""
    return person("lena", "Lena", "Lovelace")


@pytest.fixture
def others(client: Any) -> list[Account]:
    return [person("amal", "Amal", "Archer"), person("bo", "Bo", "Baker"), person("cy", "Cy", "Cole")]


def offer(learner: Account, third_party: Account, today: date, days: int = 30, titles: int = 1) -> Connection:
    """The learner shares `titles` new documents with the third party (waiting for the third party)."""
    docs = [
        run(issue(learner, f"Certificate {n}", f"APC-{learner.id}-{_next()}", today - timedelta(days=100)))
        for n in range(titles)
    ]
    return run(
        actions.share(learner, third_party.email, [d.id for d in docs], today + timedelta(days=days), today)
    )


_counter = iter(range(1, 1_000_000))


def _next() -> int:
    return next(_counter)


def active(
    learner: Account, third_party: Account, today: date, days: int = 30, titles: int = 1
) -> Connection:
    connection = offer(learner, third_party, today, days, titles)
    run(actions.accept_as_third_party(third_party, connection, today))
    return connection


def row_ids(response: Any) -> set[int]:
    return {
        int((li.attributes["id"] or "").removeprefix("connection-"))
        for li in html(response).css("ul.connections > li.connection")
    }


def counts(node: Any) -> dict[str, int]:
    """{'waiting for you': 1, 'active': 2, …} from the counts list."""
    out = {}
    for li in node.css("li"):
        number = li.css_first("strong").text(strip=True)
        out[li.text(strip=True).removeprefix(number).strip()] = int(number)
    return out


def test_dashboard_shows_counts_and_links_to_access_ending_soon(
    client: Any, learner: Account, others: list[Account], tess: Account, day: date
) -> None:
    waiting = offer(learner, tess, day)
    soon = active(others[0], tess, day, days=10)
    later = active(others[1], tess, day, days=60)
    run(actions.add_connection(tess, "someone@example.com", "", day))
    log_in(client, "tess")

    page = html(client.get("/dashboard"))

    summary = page.css_first("#connection-counts")
    assert counts(summary) == {"waiting for you": 1, "active": 2, "waiting for the other side": 1}
    assert {a.attributes["href"] for a in summary.css("a")} == {
        "/connections?show=waiting",
        "/connections?show=active",
    }
    ending = [a.attributes["href"] for a in page.css("ul.rows a")]
    assert ending == [f"/connections/{soon.id}"]
    assert f"Your access ends on {fmt(day + timedelta(days=10))}" in page.css_first("ul.rows").text()
    assert f"/connections/{later.id}" not in ending and f"/connections/{waiting.id}" not in ending


def test_list_has_one_row_per_connection_with_words_documents_and_allowed_actions(
    client: Any, learner: Account, others: list[Account], tess: Account, day: date
) -> None:
    waiting = offer(learner, tess, day, days=20, titles=2)
    current = active(others[0], tess, day, days=40, titles=3)
    ended = active(others[1], tess, day)
    run(actions.cancel(others[1], ended))
    log_in(client, "tess")

    response = client.get("/connections")

    assert response.status_code == 200
    page = html(response)
    assert row_ids(response) == {waiting.id, current.id, ended.id}

    row = page.css_first(f"#connection-{waiting.id}")
    assert row.css_first(".connection-name").text(strip=True) == "Lena Lovelace"
    assert row.css_first(".state").text(strip=True) == "Waiting for you to accept"
    # Not granted yet: worded as an offer, never as access that is running.
    assert (
        row.css_first(".access").text(strip=True)
        == f"If you accept, your access ends on {fmt(day + timedelta(days=20))}"
    )
    assert "2 shared documents" in row.text()
    assert {f.attributes["action"] for f in row.css("form")} == {
        f"/connections/{waiting.id}/accept",
        f"/connections/{waiting.id}/decline",
    }
    # A request someone sent you is declined; no second, unexplained "Cancel" beside it.
    assert [a.attributes["href"] for a in row.css(".row-actions a")] == []

    row = page.css_first(f"#connection-{current.id}")
    assert row.css_first(".state").text(strip=True) == "Active"
    assert row.css_first(".access").text(strip=True) == f"Your access ends on {fmt(day + timedelta(days=40))}"
    assert "3 shared documents" in row.text()
    assert row.css("form") == []
    links = {a.attributes["href"] for a in row.css(".row-actions a")}
    assert links == {
        f"/connections/{current.id}",
        f"/connections/{current.id}/extension",
        f"/connections/{current.id}/cancel",
    }

    row = page.css_first(f"#connection-{ended.id}")
    assert row.css_first(".state").text(strip=True) == "Cancelled"
    assert row.css(".row-actions a") == [] and row.css(".row-actions form") == []


def test_list_filters_by_state_and_searches_by_learner_name_or_email(
    client: Any, learner: Account, others: list[Account], tess: Account, day: date
) -> None:
    waiting = offer(learner, tess, day)
    usable = active(others[0], tess, day)
    lapsed = active(others[1], tess, day)
    run(Connection.update({Connection.expires_on: day - timedelta(days=1)}).where(Connection.id == lapsed.id))
    declined = offer(others[2], tess, day)
    run(actions.decline(tess, declined))
    asked = run(actions.add_connection(tess, "Noor.Nobody@example.com", "", day))
    log_in(client, "tess")

    assert row_ids(client.get("/connections?show=waiting")) == {waiting.id, asked.id}
    assert row_ids(client.get("/connections?show=active")) == {usable.id}
    assert row_ids(client.get("/connections?show=ended")) == {lapsed.id, declined.id}
    assert row_ids(client.get("/connections?show=all")) == {
        waiting.id,
        usable.id,
        lapsed.id,
        declined.id,
        asked.id,
    }
    assert (
        html(client.get("/connections?show=ended"))
        .css_first(f"#connection-{lapsed.id} .state")
        .text(strip=True)
        == "Access ended"
    )

    assert row_ids(client.get("/connections?q=lovelace")) == {waiting.id}
    assert row_ids(client.get("/connections?q=Amal")) == {usable.id}
    assert row_ids(client.get("/connections?q=noor.nobody")) == {asked.id}
    assert row_ids(client.get("/connections?q=BO@EXAMPLE")) == {lapsed.id}
    assert row_ids(client.get("/connections?q=example.com")) == {
        waiting.id,
        usable.id,
        lapsed.id,
        declined.id,
        asked.id,
    }
    assert row_ids(client.get("/connections?show=active&q=example")) == {usable.id}
    assert row_ids(client.get("/connections?show=waiting&q=amal")) == set()
    empty = client.get("/connections?q=zzz-nobody")
    assert (
        row_ids(empty) == set() and "No connections match" in html(empty).css_first("#connection-list").text()
    )


def test_list_pages_hold_25_rows_with_a_next_link(client: Any, tess: Account) -> None:
    run(
        Connection.insert(
            *[
                Connection(
                    third_party=tess.id,
                    third_party_email=tess.email,
                    learner_email=f"learner{n}@example.com",
                    started_by="third_party",
                    state="awaiting_learner",
                )
                for n in range(60)
            ]
        )
    )
    log_in(client, "tess")

    seen: set[int] = set()
    address: str | None = "/connections"
    for size, has_next in ((25, True), (25, True), (10, False)):
        assert address is not None
        response = client.get(address)
        ids = row_ids(response)
        assert len(ids) == size
        assert not ids & seen
        seen |= ids
        nxt = html(response).css_first('.pagination a[rel="next"]')
        assert (nxt is not None) == has_next
        address = nxt.attributes["href"] if nxt is not None else None
    assert len(seen) == 60


def test_accept_with_htmx_answers_the_row_and_the_counts(
    client: Any, learner: Account, tess: Account, day: date
) -> None:
    connection = offer(learner, tess, day)
    log_in(client, "tess")

    response = post_form(
        client, f"/connections/{connection.id}/accept", {}, htmx=True, token_from="/dashboard"
    )

    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    page = html(response)
    assert page.css_first("main") is None  # a fragment, not a page
    row = page.css_first(f"li#connection-{connection.id}")
    assert row.css_first(".state").text(strip=True) == "Active"
    assert row.css_first(".notice").text(strip=True) == "Connection accepted."
    summary = page.css_first('ul#connection-counts[hx-swap-oob="true"]')
    assert counts(summary)["active"] == 1 and counts(summary)["waiting for you"] == 0
    assert (
        run(Connection.select(Connection.state).where(Connection.id == connection.id).first())["state"]
        == "active"
    )


def test_accept_and_decline_without_javascript_redirect_to_the_list_with_a_message(
    client: Any, learner: Account, tess: Account, day: date
) -> None:
    first, second = offer(learner, tess, day), offer(person("amal", "Amal", "Archer"), tess, day)
    log_in(client, "tess")

    accepted = post_form(
        client, f"/connections/{first.id}/accept", {"return_to": "/connections"}, token_from="/dashboard"
    )
    assert (accepted.status_code, accepted.headers["location"]) == (303, "/connections")
    assert (
        html(client.get("/connections")).css_first(".notice-success").text(strip=True)
        == "Connection accepted."
    )

    declined = post_form(
        client, f"/connections/{second.id}/decline", {"return_to": "/connections"}, token_from="/dashboard"
    )
    assert (declined.status_code, declined.headers["location"]) == (303, "/connections")
    page = html(client.get("/connections"))
    assert page.css_first(".notice-success").text(strip=True) == "Request declined."
    assert page.css_first(f"#connection-{first.id} .state").text(strip=True) == "Active"
    assert page.css_first(f"#connection-{second.id} .state").text(strip=True) == "Declined"


def test_decline_with_htmx_answers_the_row_and_the_counts(
    client: Any, learner: Account, tess: Account, day: date
) -> None:
    connection = offer(learner, tess, day)
    log_in(client, "tess")

    response = post_form(
        client, f"/connections/{connection.id}/decline", {}, htmx=True, token_from="/dashboard"
    )

    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    page = html(response)
    assert page.css_first(f"li#connection-{connection.id} .state").text(strip=True) == "Declined"
    assert counts(page.css_first('ul#connection-counts[hx-swap-oob="true"]'))["waiting for you"] == 0


def test_viewing_lists_shared_documents_only_while_usable_and_records_it(
    client: Any, learner: Account, others: list[Account], tess: Account, day: date
) -> None:
    connection = active(learner, tess, day, titles=2)
    waiting = offer(others[0], tess, day)
    log_in(client, "tess")

    page = html(client.get(f"/connections/{connection.id}"))
    titles = sorted(li.css_first("span").text(strip=True) for li in page.css("ul.rows li"))
    assert len(titles) == 2 and all(t.startswith("Certificate") for t in titles)
    events = run(AccessEvent.select().where(AccessEvent.action == "viewed_documents"))
    assert [(e["account"], e["connection"]) for e in events] == [(tess.id, connection.id)]

    assert html(client.get(f"/connections/{waiting.id}")).css("ul.rows li") == []
    run(
        Connection.update({Connection.expires_on: day - timedelta(days=1)}).where(
            Connection.id == connection.id
        )
    )
    ended = html(client.get(f"/connections/{connection.id}"))
    assert ended.css("ul.rows li") == []
    assert f"Your access ended on {fmt(day - timedelta(days=1))}" in ended.css_first("main").text()
    assert run(AccessEvent.count().where(AccessEvent.action == "viewed_documents")) == 1


def test_request_extension_once_with_a_later_date(
    client: Any, learner: Account, tess: Account, day: date
) -> None:
    connection = active(learner, tess, day, days=10)
    log_in(client, "tess")
    path = f"/connections/{connection.id}/extension"

    form = html(client.get(path)).css_first("form#extension-form")
    assert {i.attributes["name"] for i in form.css("input, textarea")} >= {
        "wanted_until-day",
        "wanted_until-month",
        "wanted_until-year",
        "message",
    }

    same = post_form(
        client,
        path,
        {**date_fields("wanted_until", day + timedelta(days=10)), "message": "Audit"},
        token_from=path,
    )
    assert same.status_code == 422
    assert errors_on(same) == {"wanted_until": "The new date must be later than the current end date"}
    assert html(same).css_first("textarea#message").text() == "Audit"
    assert html(same).css_first(".error-summary") is not None
    assert run(ExtensionRequest.count()) == 0

    sent = post_form(
        client,
        path,
        {**date_fields("wanted_until", day + timedelta(days=40)), "message": "Audit"},
        token_from=path,
    )
    assert (sent.status_code, sent.headers["location"]) == (303, f"/connections/{connection.id}")
    request = run(ExtensionRequest.select().first())
    assert (request["wanted_until"], request["message"], request["state"]) == (
        day + timedelta(days=40),
        "Audit",
        "pending",
    )
    assert "has not answered yet" in html(client.get(path)).css_first("#extension-form").text()

    again = post_form(
        client, path, date_fields("wanted_until", day + timedelta(days=50)), token_from="/dashboard"
    )
    assert again.status_code == 422
    assert "already asked for more time" in errors_on(again)["wanted_until"]
    assert run(ExtensionRequest.count()) == 1


def test_cancel_asks_for_confirmation_then_ends_the_connection(
    client: Any, learner: Account, tess: Account, day: date
) -> None:
    connection = active(learner, tess, day)
    log_in(client, "tess")

    confirm = html(client.get(f"/connections/{connection.id}/cancel"))
    form = confirm.css_first("#cancel-confirm form")
    assert form.attributes["action"] == f"/connections/{connection.id}/cancel"
    assert (
        run(Connection.select(Connection.state).where(Connection.id == connection.id).first())["state"]
        == "active"
    )

    response = post_form(client, f"/connections/{connection.id}/cancel", {}, token_from="/dashboard")

    assert (response.status_code, response.headers["location"]) == (303, f"/connections/{connection.id}")
    row = run(Connection.select().where(Connection.id == connection.id).first())
    assert (row["state"], row["cancelled_by"]) == ("cancelled", tess.id)
    page = html(client.get(f"/connections/{connection.id}"))
    assert page.css_first(".notice-success").text(strip=True) == "Connection cancelled."
    assert page.css("ul.rows li") == []


# --- Add Connection -------------------------------------------------------------------------------


def _normalised(text: str, *replace: str) -> str:
    for value in replace:
        text = text.replace(value, "EMAIL")
    text = re.sub(r"\d{1,2}:\d{2}", "HH:MM", text)
    return re.sub(r"\s+", " ", text)


def test_add_connection_answers_the_same_whether_or_not_the_learner_exists(
    client: Any, learner: Account, tess: Account
) -> None:
    log_in(client, "tess")
    answers = []
    for address in (learner.email, "nobody-here@example.com"):
        response = post_form(
            client, "/connections/new", {"email": address, "message": "Hello"}, token_from="/connections/new"
        )
        assert response.status_code == 303
        assert re.fullmatch(r"/connections/\d+", response.headers["location"])
        page = html(client.get(response.headers["location"]))
        answers.append(_normalised(page.css_first("main").text(), address))

    assert answers[0] == answers[1]
    assert "Waiting for the learner to answer" in answers[0]
    listing = html(client.get("/connections?show=waiting"))
    assert [li.css_first(".state").text(strip=True) for li in listing.css("li.connection")] == [
        "Waiting for the learner to answer"
    ] * 2
    assert sorted(
        li.css_first(".connection-name").text(strip=True) for li in listing.css("li.connection")
    ) == sorted([learner.email, "nobody-here@example.com"])


def test_add_connection_refuses_a_second_request_while_one_waits_or_is_active(
    client: Any, learner: Account, tess: Account, day: date
) -> None:
    log_in(client, "tess")
    for address in (learner.email, "nobody-here@example.com"):
        first = post_form(client, "/connections/new", {"email": address}, token_from="/connections/new")
        assert first.status_code == 303
        second = post_form(
            client,
            "/connections/new",
            {"email": address.upper(), "message": "Again"},
            token_from="/connections/new",
        )
        assert second.status_code == 422
        assert errors_on(second) == {
            "email": "You already have a request waiting or an active connection with this learner"
        }
        assert html(second).css_first("textarea#message").text() == "Again"

    run(Connection.delete().where(Connection.learner_email == learner.email))
    active(learner, tess, day)
    refused = post_form(client, "/connections/new", {"email": learner.email}, token_from="/connections/new")
    assert refused.status_code == 422 and "active connection" in errors_on(refused)["email"]
    assert run(Connection.count().where(Connection.learner_email == learner.email)) == 1


def test_add_connection_is_rate_limited(client: Any, tess: Account) -> None:
    log_in(client, "tess")
    token = html(client.get("/connections/new")).css_first('input[name="_csrf_token"]').attributes["value"]
    for n in range(30):
        response = client.post(
            "/connections/new",
            data={"_csrf_token": token, "email": f"l{n}@example.com"},
            follow_redirects=False,
        )
        assert response.status_code == 303, n
    response = client.post(
        "/connections/new", data={"_csrf_token": token, "email": "l30@example.com"}, follow_redirects=False
    )
    assert response.status_code == 429
    assert run(Connection.count()) == 30


def test_a_request_to_an_unknown_address_reaches_the_learner_once_they_activate(
    client: Any, other_client: Any, tess: Account, mailbox: Any
) -> None:
    run(make_account("staff", "sam"))
    log_in(client, "tess")
    asked = post_form(
        client,
        "/connections/new",
        {"email": "newcomer@example.com", "message": "Hi"},
        token_from="/connections/new",
    )
    connection_path = asked.headers["location"]

    log_in(other_client, "sam")
    added = post_form(
        other_client,
        "/staff/learners",
        {"first_name": "Nia", "last_name": "Newcomer", "email": "newcomer@example.com"},
        token_from="/staff/learners",
    )
    assert added.status_code == 303
    activation = link_in(mailbox.wait_for(to="newcomer@example.com", subject="activate"), "/activate/")
    other_client.cookies.clear()
    done = post_form(
        other_client,
        activation,
        {"password": STRONG_PASSWORD, "password_confirm": STRONG_PASSWORD},
        token_from=activation,
    )
    assert done.status_code == 303, done.text
    told = mailbox.wait_for(to="newcomer@example.com", subject="asks to see your achievement documents")
    assert link_in(told, "/connections/") == connection_path
    username = run(Account.select(Account.username).where(Account.email == "newcomer@example.com").first())[
        "username"
    ]
    log_in(other_client, username)

    listing = html(other_client.get("/connections"))
    rows = listing.css("li.connection")
    assert [r.attributes["id"] for r in rows] == [f"connection-{connection_path.rsplit('/', 1)[1]}"]
    assert rows[0].css_first(".state").text(strip=True) == "Waiting for you to answer"
    page = other_client.get(connection_path)
    assert page.status_code == 200
    assert html(page).css_first(f'form[action="{connection_path}/accept"]') is not None
