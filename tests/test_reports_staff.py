"""The staff reports inbox: open first and oldest first, filtered by state; a report read beside its
document, answered (emailed to the reporter, once) and closed; racing answers give one winner. Only
staff may use it; anyone else gets 404 and nothing changes. Reporters read their answers at /reports
and on the document."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from src import reports
from src.errors import Conflict
from src.tables.outbox import OutboxEmail
from src.tables.reports import Report
from tests.support.client import log_in, run
from tests.support.connection_fixtures import make_document
from tests.support.document_fixtures import World, build_world
from tests.support.environment import BASE_URL
from tests.support.pages import csrf_token, errors_on, html
from tests.support.smtp import Mailbox, text_of


def answer(client: Any, report_id: int, text: str, htmx: bool = False) -> Any:
    token = csrf_token(client, f"/staff/reports/{report_id}")
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(
        f"/staff/reports/{report_id}/answer",
        data={"_csrf_token": token, "answer": text},
        headers=headers,
        follow_redirects=False,
    )


def close(client: Any, report_id: int) -> Any:
    token = csrf_token(client, f"/staff/reports/{report_id}")
    return client.post(
        f"/staff/reports/{report_id}/close", data={"_csrf_token": token}, follow_redirects=False
    )


def inbox_ids(client: Any, show: str | None = None) -> list[str]:
    path = "/staff/reports" + (f"?show={show}" if show else "")
    return [a.text(strip=True).split(":")[0] for a in html(client.get(path)).css("#reports-list li a")]


def test_inbox_open_first_oldest_first_and_filters(client: Any) -> None:
    world: World = run(build_world())
    tp, learner = world.people.third_party, world.people.learner
    first = run(reports.submit(tp, world.shared, world.connection.id, "other", "First"))
    second = run(reports.submit(learner, world.unshared, None, "wrong_name", "Second"))
    third = run(reports.submit(tp, world.shared, world.connection.id, "other", "Third"))
    run(reports.answer(world.people.staff, first.id, "Done"))
    log_in(client, "sam")
    assert inbox_ids(client) == [f"Report {second.id}", f"Report {third.id}", f"Report {first.id}"]
    assert inbox_ids(client, "open") == [f"Report {second.id}", f"Report {third.id}"]
    assert inbox_ids(client, "answered") == [f"Report {first.id}"]
    assert inbox_ids(client, "closed") == []
    htmx = client.get("/staff/reports?show=open", headers={"HX-Request": "true"})
    assert html(htmx).css_first("h1") is None and html(htmx).css_first("#reports-list") is not None


def test_answer_emails_reporter_once_and_reporter_reads_it(
    client: Any, other_client: Any, mailbox: Mailbox
) -> None:
    world: World = run(build_world())
    report = run(reports.submit(world.people.third_party, world.shared, world.connection.id, "other", "Hm"))
    log_in(client, "sam")
    page = html(client.get(f"/staff/reports/{report.id}"))
    assert page.css_first("article.document") is not None  # the document beside the report
    assert answer(client, report.id, "").status_code == 422
    assert "answer" in errors_on(answer(client, report.id, "   "))
    assert answer(client, report.id, "The grade is right: Merit.").status_code == 303
    stored = run(Report.objects().where(Report.id == report.id).first())
    assert (stored.state, stored.answered_by) == ("answered", world.people.staff.id)
    # A second answer (a stale form) is a conflict, not a second email.
    again = answer(client, report.id, "Another answer")
    assert again.status_code == 409 and "has changed" in html(again).css_first(".notice").text()

    log_in(other_client, "tara")
    listing = " ".join(html(other_client.get("/reports")).css_first("main").text().split())
    assert "Answered" in listing and "The grade is right: Merit." in listing
    on_document = " ".join(html(other_client.get(world.viewer())).css_first(".report-area").text().split())
    assert "The grade is right: Merit." in on_document

    assert close(client, report.id).status_code == 303
    assert run(Report.objects().where(Report.id == report.id).first()).state == "closed"
    assert close(client, report.id).status_code == 409
    keys = sorted(
        row["idempotency_key"]
        for row in run(
            OutboxEmail.select(OutboxEmail.idempotency_key).where(
                OutboxEmail.idempotency_key.like("report:%")
            )
        )
    )
    assert keys == [f"report:{report.id}:{k}" for k in ("answered", "owner", "received")]
    total = run(OutboxEmail.count())
    received = [mailbox.wait_for(timeout=10) for _ in range(total)]
    answered = [m for m in received if m["Subject"].startswith("We answered your report")]
    assert len(answered) == 1 and "tara@example.com" in answered[0]["To"]
    assert "The grade is right: Merit." in text_of(answered[0])
    assert mailbox.received.empty()


def test_close_needs_an_answer_first(client: Any) -> None:
    world: World = run(build_world())
    report = run(reports.submit(world.people.learner, world.shared, None, "other", "Hm"))
    log_in(client, "sam")
    assert close(client, report.id).status_code == 409
    assert run(Report.objects().where(Report.id == report.id).first()).state == "open"


async def _race(world: World, report_id: int) -> list[Any]:
    return await asyncio.gather(
        reports.answer(world.people.staff, report_id, "Answer A"),
        reports.answer(world.people.staff, report_id, "Answer B"),
        return_exceptions=True,
    )


def test_racing_answers_one_winner_through_the_rules(client: Any) -> None:
    world: World = run(build_world())
    for n in range(10):
        report = run(reports.submit(world.people.learner, world.shared, None, "other", f"Round {n}"))
        results = run(_race(world, report.id))
        assert sum(r is None for r in results) == 1, results
        assert sum(isinstance(r, Conflict) for r in results) == 1, results
        run(Report.delete().where(Report.id == report.id))  # room under the per-document limit
        keys = run(OutboxEmail.count().where(OutboxEmail.idempotency_key == f"report:{report.id}:answered"))
        assert keys == 1


def test_racing_answers_over_http_one_winner(client: Any, app: Litestar) -> None:
    world: World = run(build_world())
    report = run(reports.submit(world.people.third_party, world.shared, world.connection.id, "other", "Hm"))
    browsers = []
    for _ in range(2):
        browser = TestClient(app, base_url=BASE_URL)
        log_in(browser, "sam")
        browsers.append((browser, csrf_token(browser, f"/staff/reports/{report.id}")))
    barrier = threading.Barrier(2)

    def send(pair: tuple[Any, str]) -> int:
        barrier.wait(timeout=10)
        return (
            pair[0]
            .post(  # type: ignore[no-any-return]
                f"/staff/reports/{report.id}/answer",
                data={"_csrf_token": pair[1], "answer": "Checked"},
                follow_redirects=False,
            )
            .status_code
        )

    with ThreadPoolExecutor(2) as pool:
        assert sorted(pool.map(send, browsers)) == [303, 409]
    assert run(OutboxEmail.count().where(OutboxEmail.idempotency_key == f"report:{report.id}:answered")) == 1


@pytest.mark.parametrize("who", ["lena", "tara", "anonymous"])
def test_staff_pages_are_for_staff_only(client: Any, who: str) -> None:
    world: World = run(build_world())
    report = run(reports.submit(world.people.learner, world.shared, None, "other", "Hm"))
    token = csrf_token(client)
    if who != "anonymous":
        log_in(client, who)
        token = csrf_token(client, "/profile")  # tokens are bound to the session
    requests = [
        ("GET", "/staff/reports"),
        ("GET", f"/staff/reports/{report.id}"),
        ("POST", f"/staff/reports/{report.id}/answer"),
        ("POST", f"/staff/reports/{report.id}/close"),
    ]
    for method, path in requests:
        response = (
            client.get(path, follow_redirects=False)
            if method == "GET"
            else client.post(path, data={"_csrf_token": token, "answer": "x"}, follow_redirects=False)
        )
        if who == "anonymous":
            assert response.status_code == 303 and response.headers["location"].startswith("/login")
        else:
            assert response.status_code == 404, (who, path)
    assert run(Report.objects().where(Report.id == report.id).first()).state == "open"


def test_missing_report_is_404_for_staff(client: Any) -> None:
    run(build_world())
    log_in(client, "sam")
    assert client.get("/staff/reports/9999").status_code == 404
    token = csrf_token(client, "/staff/reports")
    for path in ("/staff/reports/9999/answer", "/staff/reports/9999/close"):
        assert client.post(path, data={"_csrf_token": token, "answer": "x"}).status_code == 404


def test_reports_page_shows_only_ones_own(client: Any, other_client: Any) -> None:
    world: World = run(build_world())
    other_doc = run(make_document(world.people.other_learner, 5))
    run(reports.submit(world.people.other_learner, other_doc, None, "other", "Not yours to read"))
    run(reports.submit(world.people.third_party, world.shared, world.connection.id, "other", "Mine"))
    log_in(client, "tara")
    text = html(client.get("/reports")).css_first("main").text()
    assert "Mine" in text and "Not yours to read" not in text
    log_in(other_client, "sam")
    assert other_client.get("/reports", follow_redirects=False).status_code == 404


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "page"])
def test_inbox_marks_the_current_filter_and_frames_nothing(client: Any, htmx: bool) -> None:
    run(build_world())
    log_in(client, "sam")
    headers = {"HX-Request": "true"} if htmx else {}
    for show, words in reports.INBOX_FILTERS.items():
        page = html(client.get(f"/staff/reports?show={show}", headers=headers))
        current = page.css('nav[aria-label="Filter by state"] a[aria-current="page"]')
        assert [a.text(strip=True) for a in current] == [words]
        # Nothing takes focus on arrival: a focused container drew the focus frame round the list.
        assert page.css("[autofocus]") == [] and page.css('#reports-inbox [tabindex="-1"]') == []
    stylesheet = html(client.get("/staff/reports")).css_first('link[rel="stylesheet"]').attributes["href"]
    assert '.filter-links a[aria-current="page"]{' in client.get(stylesheet).text
