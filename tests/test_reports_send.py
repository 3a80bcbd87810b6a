"""Sending a report (the yellow button): with and without JavaScript, the emails it causes (each
received once on the test SMTP server), bad input, and free text that looks like HTML or htmx shown
as text everywhere: the reporter's pages, the staff inbox and the emails."""

from __future__ import annotations

from typing import Any

import pytest

from src.tables.outbox import OutboxEmail
from src.tables.reports import Report
from tests.support.client import log_in, run
from tests.support.document_fixtures import World, build_world
from tests.support.pages import csrf_token, errors_on, html
from tests.support.smtp import Mailbox, text_of

NASTY = '<script>alert(1)</script><button hx-post="/logout" hx-trigger="load">x</button>'


def report_emails(mailbox: Mailbox) -> dict[tuple[str, str], Any]:
    """Every queued email received on the SMTP server; those about reports by (recipient, subject
    start), each exactly once."""
    expected = run(OutboxEmail.count())
    found: dict[tuple[str, str], Any] = {}
    for _ in range(expected):
        message = mailbox.wait_for(timeout=10)
        subject = message["Subject"]
        if "report" in subject.lower():
            key = (message["To"].split("<")[-1].rstrip(">").lower(), _kind(subject))
            assert key not in found, f"{key} arrived twice"
            found[key] = message
    assert mailbox.received.empty(), "more emails arrived than were queued"
    return found


def _kind(subject: str) -> str:
    for kind in (
        "We received your report",
        "We answered your report",
        "A problem was reported on your document",
    ):
        if subject.startswith(kind):
            return kind
    return subject


def send(client: Any, path: str, data: dict[str, str], htmx: bool) -> Any:
    headers = {"HX-Request": "true"} if htmx else {}
    body = {"_csrf_token": csrf_token(client, path.removesuffix("/report")), **data}
    return client.post(path, data=body, headers=headers, follow_redirects=False)


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "form"])
def test_third_party_reports_and_both_sides_hear_of_it(client: Any, mailbox: Mailbox, htmx: bool) -> None:
    world: World = run(build_world())
    log_in(client, "tara")
    viewer = world.viewer()
    # The yellow button: a real link to the form page, which htmx loads in place.
    button = html(client.get(viewer)).css_first("a.button-report")
    assert button.text(strip=True) == "Report a problem"
    assert button.attributes["href"] == f"{viewer}/report" == button.attributes["hx-get"]
    fragment = client.get(f"{viewer}/report", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and html(fragment).css_first("form textarea#message") is not None
    assert html(fragment).css_first("[autofocus]") is not None  # focus moves into the form

    response = send(
        client,
        f"{viewer}/report",
        {"category": "wrong_details", "message": "The grade should be Merit."},
        htmx,
    )
    if htmx:
        assert response.status_code == 200
        sent = html(response).css_first("#report-slot")
        assert "Report sent" in sent.text() and "autofocus" in sent.attributes
    else:
        assert response.status_code == 303 and response.headers["location"] == viewer
        page = html(client.get(viewer))
        assert "Your report was sent" in page.css_first(".notice-success").text()
    report = run(Report.objects().first())
    assert (report.reporter, report.document, report.connection, report.state) == (
        world.people.third_party.id,
        world.shared.id,
        world.connection.id,
        "open",
    )
    # The document shows the person's report and its state.
    mine = " ".join(html(client.get(viewer)).css_first(".report-area").text().split())
    assert "Sent, waiting for an answer" in mine and "A grade, unit or date is wrong" in mine

    received = report_emails(mailbox)
    assert sorted(received) == [
        ("lena@example.com", "A problem was reported on your document"),
        ("tara@example.com", "We received your report"),
    ]
    ack = received[("tara@example.com", "We received your report")]
    assert "The grade should be Merit." in text_of(ack)
    told = received[("lena@example.com", "A problem was reported on your document")]
    assert "Tara Thirdparty (Tara Care Ltd)" in text_of(told)
    assert "Merit" not in text_of(told) and "Merit" not in told.get_body(("html",)).get_content()


def test_learner_reports_own_document_and_gets_only_the_acknowledgement(
    client: Any, mailbox: Mailbox
) -> None:
    world: World = run(build_world())
    log_in(client, "lena")
    path = f"/documents/{world.unshared.id}/report"
    assert client.get(path).status_code == 200  # the form on its own page, without JavaScript
    response = send(client, path, {"category": "wrong_name", "message": "My surname is misspelt."}, False)
    assert response.status_code == 303
    # Only the acknowledgement: no "someone reported a problem on your document" to oneself.
    assert list(report_emails(mailbox)) == [("lena@example.com", "We received your report")]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"category": "", "message": "Something"}, "category"),
        ({"category": "made_up", "message": "Something"}, "category"),
        ({"category": "other", "message": "   "}, "message"),
        ({"category": "other", "message": "x" * 2001}, "message"),
    ],
)
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "form"])
def test_bad_input_is_refused_beside_the_field_and_kept(
    client: Any, data: dict[str, str], field: str, htmx: bool
) -> None:
    world: World = run(build_world())
    log_in(client, "tara")
    response = send(client, f"{world.viewer()}/report", data, htmx)
    assert response.status_code == 422
    assert field in errors_on(response)
    kept = html(response).css_first("textarea#message").text()
    assert kept == data["message"].strip()
    assert run(Report.count()) == 0
    assert run(OutboxEmail.count().where(OutboxEmail.idempotency_key.like("report:%"))) == 0


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "form"])
def test_a_nul_byte_is_a_bad_request_and_nothing_is_saved(client: Any, htmx: bool) -> None:
    """Every form refuses a NUL byte before any handler runs (src/security.py): 400, not a 500."""
    world: World = run(build_world())
    log_in(client, "tara")
    response = send(client, f"{world.viewer()}/report", {"category": "other", "message": "\x00\x00"}, htmx)
    assert response.status_code == 400
    assert run(Report.count()) == 0


def test_exactly_2000_characters_is_accepted(client: Any) -> None:
    world: World = run(build_world())
    log_in(client, "tara")
    response = send(client, f"{world.viewer()}/report", {"category": "other", "message": "é" * 2000}, False)
    assert response.status_code == 303
    assert len(run(Report.objects().first()).message) == 2000


def test_html_and_htmx_in_free_text_show_as_text_everywhere(
    client: Any, other_client: Any, mailbox: Mailbox
) -> None:
    world: World = run(build_world())
    log_in(client, "tara")
    assert (
        send(client, f"{world.viewer()}/report", {"category": "other", "message": NASTY}, False).status_code
        == 303
    )
    report = run(Report.objects().first())

    def shows_as_text(response: Any, where: str) -> None:
        tree = html(response)
        assert tree.css_first("main script") is None, where
        assert tree.css_first("main [hx-trigger]") is None, where
        assert NASTY in tree.css_first("main").text(), where

    shows_as_text(client.get("/reports"), "/reports")
    log_in(other_client, "sam")
    shows_as_text(other_client.get(f"/staff/reports/{report.id}"), "staff report page")
    # The staff answer is free text too, and goes to the reporter by email.
    token = csrf_token(other_client, f"/staff/reports/{report.id}")
    answered = other_client.post(
        f"/staff/reports/{report.id}/answer",
        data={"_csrf_token": token, "answer": f"Thanks. {NASTY}"},
        follow_redirects=False,
    )
    assert answered.status_code == 303
    shows_as_text(client.get("/reports"), "/reports with the answer")
    received = report_emails(mailbox)
    for subject in ("We received your report", "We answered your report"):
        message = received[("tara@example.com", subject)]
        assert NASTY in text_of(message)
        body = message.get_body(("html",)).get_content()
        assert "<script>" not in body and "hx-trigger=" not in body.replace("hx-trigger=&#34;", "")
        assert NASTY not in body and "&lt;script&gt;" in body
