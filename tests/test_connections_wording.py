"""What a new user looks for, in the guide's words (issue 9, "what a new user trips on" 1, 2, 5):
"Manage connections" and "Extend" where the guide says so, the profile called Profile; focus lands on
the changed row's status message after an in-place swap; a waiting request offers one way out,
named for what it does, and never shows an end date for access that was never granted."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from src import connections as actions
from src.documents import issue
from src.tables.accounts import Account
from tests.support.client import log_in, post_form, run
from tests.support.clocks import fmt
from tests.support.factories import make_account
from tests.support.pages import html


def _learner(username: str = "lena") -> Account:
    return run(make_account("learner", username, password=None, first_name="Lena", last_name="Lovelace"))


def _offer(learner: Account, third_party: Account, day: date, days: int = 30) -> Any:
    document = run(issue(learner, "Level 3 Diploma", f"APC-W-{learner.id}", day - timedelta(days=50)))
    return run(actions.share(learner, third_party.email, [document.id], day + timedelta(days=days), day))


def test_the_guides_words_are_where_people_look(client: Any, tess: Account, day: date) -> None:
    learner = _learner()
    connection = _offer(learner, tess, day)
    run(actions.accept_as_third_party(tess, connection, day))
    log_in(client, "tess")

    dashboard = html(client.get("/dashboard"))
    menu = [a.text(strip=True) for a in dashboard.css('nav[aria-label="Account"] a')]
    assert "Profile" in menu and "Manage" not in menu
    assert "Manage connections" in [a.text(strip=True) for a in dashboard.css("main a")]

    row = html(client.get("/connections")).css_first(f"#connection-{connection.id}")
    extend = [a for a in row.css(".row-actions a") if a.attributes["href"].endswith("/extension")]
    assert len(extend) == 1 and extend[0].text(strip=True).startswith("Extend")

    form_page = html(client.get(f"/connections/{connection.id}/extension"))
    assert form_page.css_first("h1").text(strip=True) == "Extend access"
    # The difference from a learner's Extend is explained in the form: the learner decides.
    assert "Only Lena Lovelace can give you more time" in form_page.css_first("main").text()


def test_after_accepting_in_place_focus_goes_to_the_rows_status_message(
    client: Any, tess: Account, day: date
) -> None:
    connection = _offer(_learner(), tess, day)
    log_in(client, "tess")

    response = post_form(
        client, f"/connections/{connection.id}/accept", {}, htmx=True, token_from="/dashboard"
    )

    notice = html(response).css_first(f"li#connection-{connection.id} .notice")
    assert notice.text(strip=True) == "Connection accepted."
    # htmx focuses [autofocus] in swapped content; tabindex makes the message focusable.
    assert "autofocus" in notice.attributes and notice.attributes["tabindex"] == "-1"


def test_a_waiting_request_offers_one_way_out_named_for_what_it_does(
    client: Any, tess: Account, day: date
) -> None:
    lena = run(make_account("learner", "lena"))
    connection = _offer(lena, tess, day, days=20)
    log_in(client, "lena")

    row = html(client.get("/connections")).css_first(f"#connection-{connection.id}")

    # Lena's own request, waiting for Tess: she can withdraw it, and it is not called access.
    links = {a.text(strip=True): a.attributes["href"] for a in row.css(".row-actions a")}
    assert any(text.startswith("Withdraw request") for text in links)
    assert not any(text.startswith("Cancel") for text in links)
    assert row.css_first(".access").text(strip=True) == f"Offered until {fmt(day + timedelta(days=20))}"


def test_reloading_a_post_only_address_goes_to_the_form_not_a_405(
    client: Any, tess: Account, day: date
) -> None:
    """Without JavaScript, a form with an error leaves its POST address in the address bar."""
    connection = _offer(_learner(), tess, day)
    log_in(client, "tess")
    bad = post_form(client, "/profile/details", {"first_name": ""}, token_from="/profile")
    assert bad.status_code == 422

    for path, lands_on in [
        ("/profile/details", "/profile"),
        ("/profile/addresses", "/profile/addresses/new"),
        (f"/connections/{connection.id}/accept", f"/connections/{connection.id}"),
        (f"/connections/{connection.id}/decline", f"/connections/{connection.id}"),
    ]:
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"] == lands_on
        assert client.get(path).status_code == 200


def test_a_reload_address_leads_nowhere_it_should_not(client: Any, tess: Account, day: date) -> None:
    connection = _offer(_learner(), tess, day)
    # Logged out: the log-in page, as for any private page.
    assert client.get(f"/connections/{connection.id}/accept", follow_redirects=False).status_code in (
        302,
        303,
    )
    log_in(client, "tess")
    # Someone else's (or no) connection: the page it leads to answers 404, as that page always does.
    assert client.get("/connections/999999/accept").status_code == 404
