"""Each reporter is offered the problems in their own words: a learner about their own document
("My name is wrong", "I should not see this document"), a third party about one shared with them
(never those two). A category from the other role's list is refused beside the field, and nothing
is saved or emailed."""

from __future__ import annotations

from typing import Any

import pytest

from src import reports
from src.errors import Refused
from src.tables.outbox import OutboxEmail
from src.tables.reports import Report
from tests.support.client import log_in, run
from tests.support.document_fixtures import World, build_world
from tests.support.pages import errors_on, html
from tests.test_reports_send import send

LEARNER = [
    "My name is wrong",
    "A grade, unit or date is wrong",
    "I should not see this document",
    "Something else",
]
THIRD_PARTY = ["A grade, unit or date is wrong", "Something else"]


def offered(response: Any) -> list[str]:
    form = html(response).css_first("form.report-form")
    return [label.text(strip=True) for label in form.css(".choice label")]


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "form"])
def test_each_role_is_offered_its_own_categories(client: Any, other_client: Any, htmx: bool) -> None:
    world: World = run(build_world())
    headers = {"HX-Request": "true"} if htmx else {}
    log_in(client, "tara")
    assert offered(client.get(f"{world.viewer()}/report", headers=headers)) == THIRD_PARTY
    log_in(other_client, "lena")
    assert offered(other_client.get(f"/documents/{world.shared.id}/report", headers=headers)) == LEARNER


@pytest.mark.parametrize("category", ["wrong_name", "should_not_see"])
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "form"])
def test_a_third_party_cannot_send_a_learners_category(client: Any, category: str, htmx: bool) -> None:
    world: World = run(build_world())
    log_in(client, "tara")
    data = {"category": category, "message": "The name does not match."}
    response = send(client, f"{world.viewer()}/report", data, htmx)
    assert response.status_code == 422
    assert errors_on(response) == {"category": "Choose one of the problems listed here"}
    assert offered(response) == THIRD_PARTY
    assert html(response).css_first("textarea#message").text() == data["message"]
    assert run(Report.count()) == 0
    assert run(OutboxEmail.count().where(OutboxEmail.idempotency_key.like("report:%"))) == 0


def test_the_rule_holds_below_the_form_too() -> None:
    world: World = run(build_world())
    with pytest.raises(Refused) as refused:
        run(reports.submit(world.people.third_party, world.shared, world.connection.id, "wrong_name", "x"))
    assert refused.value.field == "category"
    assert run(Report.count()) == 0


def test_a_report_sent_before_the_split_stays_readable(client: Any) -> None:
    """A third party's report filed under a learner's category (before each role had its own list)
    still shows its category in words, on the document and on Your reports."""
    world: World = run(build_world())
    legacy = Report(
        document=world.shared.id,
        reporter=world.people.third_party.id,
        connection=world.connection.id,
        category="wrong_name",
        message="Old report",
    )
    run(legacy.save())
    log_in(client, "tara")
    on_document = " ".join(html(client.get(world.viewer())).css_first(".report-area").text().split())
    assert "· My name is wrong" in on_document
    assert "My name is wrong" in html(client.get("/reports")).css_first("main").text()
