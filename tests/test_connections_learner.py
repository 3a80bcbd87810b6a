"""Connections for a learner, over HTTP: My documents, Share (typed date, default and maximum, every
refusal), answering a third party's request, extension requests, extending, changing the documents,
cancelling, and the Activity page."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from src import connections as actions
from src.documents import issue
from src.tables.accounts import Account
from src.tables.connections import Connection, ExtensionRequest, SharedDocument
from src.tables.documents import Document
from tests.support.client import post_form, run
from tests.support.clocks import date_fields, fmt
from tests.support.factories import make_account
from tests.support.pages import errors_on, html


@pytest.fixture
def docs(lena: Account, day: date) -> list[Document]:
    return [
        run(issue(lena, "Level 3 Diploma", "APC-1", day - timedelta(days=400))),
        run(
            issue(
                lena,
                "First Aid at Work",
                "APC-2",
                day - timedelta(days=200),
                kind="accreditation",
                valid_until=day + timedelta(days=90),
            )
        ),
    ]


def shared_ids(connection_id: int) -> set[int]:
    return {
        r["document"]
        for r in run(
            SharedDocument.select(SharedDocument.document).where(SharedDocument.connection == connection_id)
        )
    }


def stored(connection_id: int) -> dict[str, Any]:
    return run(Connection.select().where(Connection.id == connection_id).first())  # type: ignore[no-any-return]


def test_my_documents_shows_each_status_in_words(client: Any, lena: Account, day: date) -> None:
    newer = run(issue(lena, "Replacement", "APC-15", day - timedelta(days=10)))
    run(issue(lena, "Plain", "APC-10", day - timedelta(days=50)))
    run(issue(lena, "Accredited", "APC-11", day - timedelta(days=60), valid_until=day + timedelta(days=5)))
    run(issue(lena, "Lapsed", "APC-12", day - timedelta(days=70), valid_until=day - timedelta(days=1)))
    run(
        issue(lena, "Withdrawn", "APC-13", day - timedelta(days=80), status="revoked", revoked_reason="Error")
    )
    run(issue(lena, "Old", "APC-14", day - timedelta(days=90), status="superseded", superseded_by=newer.id))
    other = run(make_account("learner", "liam", password=None))
    run(issue(other, "Not mine", "APC-99", day))

    page = html(client.get("/documents"))

    status = {
        card.css_first("h2").text(strip=True): card.css_first("strong").text(strip=True)
        for card in page.css("ul.cards > li")
    }
    assert status == {
        "Replacement": "Valid",
        "Plain": "Valid",
        "Accredited": f"Document valid until {fmt(day + timedelta(days=5))}",
        "Lapsed": f"Document expired on {fmt(day - timedelta(days=1))}",
        "Withdrawn": "Revoked",
        "Old": "Replaced by a newer document",
    }


def test_share_page_offers_a_default_date_and_states_the_maximum(
    client: Any, docs: list[Document], day: date
) -> None:
    page = html(client.get("/share"))
    form = page.css_first("form#share-form")
    default = day + timedelta(days=30)
    assert {p: form.css_first(f"#expires_on-{p}").attributes["value"] for p in ("day", "month", "year")} == {
        "day": str(default.day),
        "month": str(default.month),
        "year": str(default.year),
    }
    hint = form.css_first("#expires_on-hint").text()
    assert "30 days" in hint and "365 days" in hint and fmt(day + timedelta(days=365)) in hint
    assert {i.attributes["value"] for i in form.css('input[name="documents"]')} == {str(d.id) for d in docs}


def test_share_creates_a_waiting_connection(
    client: Any, tess: Account, docs: list[Document], day: date
) -> None:
    until = day + timedelta(days=45)
    response = post_form(
        client,
        "/share",
        {"email": "TESS@example.com", "documents": str(docs[1].id), **date_fields("expires_on", until)},
        token_from="/share",
    )

    assert response.status_code == 303
    connection_id = int(response.headers["location"].rsplit("/", 1)[1])
    row = stored(connection_id)
    assert (row["state"], row["third_party"], row["expires_on"]) == ("awaiting_third_party", tess.id, until)
    assert shared_ids(connection_id) == {docs[1].id}
    page = html(client.get(response.headers["location"]))
    assert page.css_first(".notice-success") is not None
    assert page.css_first("dd strong").text(strip=True) == "Waiting for them to accept"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"documents": None}, "documents", "Choose at least one document to share"),
        ({"email": "not-an-email"}, "email", None),
        ({"email": "lena@example.com"}, "email", "not your own"),
        ({"when": -1}, "expires_on", "today or in the future"),
        ({"when": 366}, "expires_on", "within 365 days"),
        ({"expires_on-month": ""}, "expires_on", "must include a month"),
        ({"expires_on-day": "", "expires_on-year": ""}, "expires_on", "must include a day and a year"),
    ],
)
def test_share_refusals_keep_the_values_and_save_nothing(
    client: Any,
    tess: Account,
    docs: list[Document],
    day: date,
    change: dict[str, Any],
    field: str,
    message: str | None,
) -> None:
    data: dict[str, Any] = {
        "email": "tess@example.com",
        "documents": str(docs[0].id),
        **date_fields("expires_on", day + timedelta(days=change.pop("when", 20))),
    }
    data.update(change)
    data = {k: v for k, v in data.items() if v is not None}

    response = post_form(client, "/share", data, token_from="/share")

    assert response.status_code == 422
    errors = errors_on(response)
    assert list(errors) == [field]
    if message:
        assert message in errors[field]
    page = html(response)
    summary = page.css_first(".error-summary")
    assert summary is not None and errors[field] in summary.text()
    assert page.css_first("#email").attributes["value"] == data["email"]
    for part in ("day", "month", "year"):
        assert page.css_first(f"#expires_on-{part}").attributes["value"] == data.get(f"expires_on-{part}", "")
    ticked = {i.attributes["value"] for i in page.css('input[name="documents"][checked]')}
    assert ticked == ({data["documents"]} if "documents" in data else set())
    assert run(Connection.count()) == 0 and run(SharedDocument.count()) == 0


def test_accept_a_request_choosing_documents_and_end_date(
    client: Any, lena: Account, tess: Account, docs: list[Document], day: date
) -> None:
    asked = run(actions.add_connection(tess, lena.email, "Please", day))
    path = f"/connections/{asked.id}"
    form = html(client.get(path)).css_first(f'form[action="{path}/accept"]')
    assert form is not None and len(form.css('input[name="documents"]')) == 2

    refused = post_form(
        client, f"{path}/accept", date_fields("expires_on", day + timedelta(days=10)), token_from=path
    )
    assert refused.status_code == 422
    assert errors_on(refused) == {"documents": "Choose at least one document to share"}
    assert html(refused).css_first("#expires_on-day").attributes["value"] == str(
        (day + timedelta(days=10)).day
    )
    assert stored(asked.id)["state"] == "awaiting_learner"

    until = day + timedelta(days=10)
    response = post_form(
        client,
        f"{path}/accept",
        {"documents": str(docs[0].id), **date_fields("expires_on", until)},
        token_from=path,
    )
    assert (response.status_code, response.headers["location"]) == (303, path)
    row = stored(asked.id)
    assert (row["state"], row["expires_on"]) == ("active", until)
    assert shared_ids(asked.id) == {docs[0].id}


def test_decline_a_request(client: Any, lena: Account, tess: Account, day: date) -> None:
    asked = run(actions.add_connection(tess, lena.email, "", day))

    response = post_form(client, f"/connections/{asked.id}/decline", {}, token_from="/share")

    assert response.status_code == 303
    assert stored(asked.id)["state"] == "declined"
    assert shared_ids(asked.id) == set()


def _active(lena: Account, tess: Account, docs: list[Document], day: date, days: int = 10) -> Connection:
    connection = run(actions.share(lena, tess.email, [docs[0].id], day + timedelta(days=days), day))
    run(actions.accept_as_third_party(tess, connection, day))
    return connection


def test_approve_an_extension_with_another_date(
    client: Any, lena: Account, tess: Account, docs: list[Document], day: date
) -> None:
    connection = _active(lena, tess, docs, day)
    run(actions.request_extension(tess, connection, day + timedelta(days=60), "Audit", day))
    path = f"/connections/{connection.id}"
    form = html(client.get(path)).css_first(f'form[action="{path}/extension/approve"]')
    wanted = day + timedelta(days=60)
    assert form.css_first("#new_expiry-day").attributes["value"] == str(wanted.day)

    too_early = post_form(
        client,
        f"{path}/extension/approve",
        date_fields("new_expiry", day + timedelta(days=5)),
        token_from=path,
    )
    assert too_early.status_code == 422
    assert errors_on(too_early) == {"new_expiry": "The new date must be later than the current end date"}

    chosen = day + timedelta(days=40)
    response = post_form(
        client, f"{path}/extension/approve", date_fields("new_expiry", chosen), token_from=path
    )
    assert response.status_code == 303
    assert stored(connection.id)["expires_on"] == chosen
    request = run(ExtensionRequest.select().first())
    assert (request["state"], request["new_expiry"]) == ("approved", chosen)


def test_decline_an_extension(
    client: Any, lena: Account, tess: Account, docs: list[Document], day: date
) -> None:
    connection = _active(lena, tess, docs, day)
    run(actions.request_extension(tess, connection, day + timedelta(days=60), "", day))

    response = post_form(client, f"/connections/{connection.id}/extension/decline", {}, token_from="/share")

    assert response.status_code == 303
    assert run(ExtensionRequest.select(ExtensionRequest.state).first())["state"] == "declined"
    assert stored(connection.id)["expires_on"] == day + timedelta(days=10)
    again = post_form(client, f"/connections/{connection.id}/extension/decline", {}, token_from="/share")
    assert again.status_code == 303  # nothing pending any more: back to the page with "this has changed"
    assert "has changed" in html(client.get(again.headers["location"])).css_first(".notice-warning").text()


def test_extend_on_their_own_to_a_later_date(
    client: Any, lena: Account, tess: Account, docs: list[Document], day: date
) -> None:
    connection = _active(lena, tess, docs, day)
    path = f"/connections/{connection.id}"

    same = post_form(
        client, f"{path}/extend", date_fields("extend_to", day + timedelta(days=10)), token_from=path
    )
    assert same.status_code == 422
    assert errors_on(same) == {"extend_to": "The new date must be later than the current end date"}
    assert html(same).css_first("#extend_to-day").attributes["value"] == str((day + timedelta(days=10)).day)

    later = day + timedelta(days=100)
    response = post_form(client, f"{path}/extend", date_fields("extend_to", later), token_from=path)
    assert (response.status_code, response.headers["location"]) == (303, path)
    assert stored(connection.id)["expires_on"] == later
    assert f"Access ends on {fmt(later)}" in html(client.get(path)).css_first("dl.summary").text()


def test_change_which_documents_are_shared(
    client: Any, lena: Account, tess: Account, docs: list[Document], day: date
) -> None:
    connection = _active(lena, tess, docs, day)
    path = f"/connections/{connection.id}"

    none = post_form(client, f"{path}/documents", {}, token_from=path)
    assert none.status_code == 422 and "documents" in errors_on(none)
    assert shared_ids(connection.id) == {docs[0].id}

    response = client.post(
        f"{path}/documents",
        data={
            "_csrf_token": html(client.get(path)).css_first('input[name="_csrf_token"]').attributes["value"],
            "documents": [str(docs[0].id), str(docs[1].id)],
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert shared_ids(connection.id) == {docs[0].id, docs[1].id}
    ticked = {i.attributes["value"] for i in html(client.get(path)).css('input[name="documents"][checked]')}
    assert ticked == {str(docs[0].id), str(docs[1].id)}


def test_cancel_a_connection(
    client: Any, lena: Account, tess: Account, docs: list[Document], day: date
) -> None:
    connection = _active(lena, tess, docs, day)
    path = f"/connections/{connection.id}"
    assert (
        html(client.get(f"{path}/cancel")).css_first(f'#cancel-confirm form[action="{path}/cancel"]')
        is not None
    )

    response = post_form(client, f"{path}/cancel", {}, token_from=path)

    assert response.status_code == 303
    row = stored(connection.id)
    assert (row["state"], row["cancelled_by"]) == ("cancelled", lena.id)
    assert html(client.get(path)).css_first("dd strong").text(strip=True) == "Cancelled"


def test_activity_lists_who_did_what_newest_first(
    client: Any, lena: Account, tess: Account, docs: list[Document], day: date
) -> None:
    connection = _active(lena, tess, docs, day)
    run(actions.request_extension(tess, connection, day + timedelta(days=30), "", day))
    stranger = run(make_account("learner", "liam", password=None))
    run(actions.add_connection(tess, stranger.email, "", day))  # not Lena's: not on her page

    items = html(client.get("/activity")).css("#activity-list ol > li")

    said = [" ".join(li.css("span")[1].text().split()) for li in items]
    assert said == [
        "Tess Turner (Acme Care) requested extension",
        "Tess Turner (Acme Care) accepted",
        "You shared",
    ]
    assert {a.attributes["href"] for li in items for a in li.css("a")} == {f"/connections/{connection.id}"}
