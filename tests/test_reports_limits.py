"""Limits on reports: at most 3 per person on one document and 10 per person in 24 hours, each with a
clear message and no email; counted atomically, so parallel requests (asyncio.gather on the rules,
threads over HTTP) never let a fourth one through, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from src import reports
from src.errors import Refused
from src.tables.outbox import OutboxEmail
from src.tables.reports import Report
from tests.support.client import log_in, run
from tests.support.connection_fixtures import make_document
from tests.support.document_fixtures import World, build_world
from tests.support.environment import BASE_URL
from tests.support.pages import csrf_token, errors_on


def report_emails() -> int:
    return run(OutboxEmail.count().where(OutboxEmail.idempotency_key.like("report:%")))


def post(client: Any, path: str, token: str, htmx: bool = False) -> Any:
    headers = {"HX-Request": "true"} if htmx else {}
    data = {"_csrf_token": token, "category": "other", "message": "Please check this."}
    return client.post(path, data=data, headers=headers, follow_redirects=False)


def test_three_per_document_then_a_clear_message_and_no_email(client: Any) -> None:
    world: World = run(build_world())
    log_in(client, "tara")
    path = f"{world.viewer()}/report"
    token = csrf_token(client, world.viewer())
    assert [post(client, path, token).status_code for _ in range(3)] == [303, 303, 303]
    emails = report_emails()
    for htmx in (False, True):
        refused = post(client, path, token, htmx)
        assert refused.status_code == 429
        assert "already sent 3 reports on this document" in errors_on(refused)["message"]
    assert run(Report.count()) == 3 and report_emails() == emails


def test_ten_in_24_hours_across_documents(client: Any) -> None:
    world: World = run(build_world())
    learner = world.people.learner
    documents = [run(make_document(learner, n)) for n in range(3, 7)]
    for n in range(10):
        run(reports.submit(learner, documents[n // 3], None, "other", f"Report {n}"))
    log_in(client, "lena")
    token = csrf_token(client, f"/documents/{world.shared.id}")
    refused = post(client, f"/documents/{world.shared.id}/report", token)
    assert refused.status_code == 429
    assert "10 reports in the last 24 hours" in errors_on(refused)["message"]
    assert run(Report.count()) == 10
    # The window moves: reports older than 24 hours no longer count.
    run(Report.update({Report.created_at: datetime.now(UTC) - timedelta(hours=25)}).where(Report.id > 0))
    assert post(client, f"/documents/{world.shared.id}/report", token).status_code == 303


async def _gather_submits(world: World, n: int) -> list[Any]:
    return await asyncio.gather(
        *[
            reports.submit(world.people.third_party, world.shared, world.connection.id, "other", f"Try {i}")
            for i in range(n)
        ],
        return_exceptions=True,
    )


def test_parallel_submits_through_the_rules_let_exactly_three_through(client: Any) -> None:
    world: World = run(build_world())
    results = run(_gather_submits(world, 8))
    assert sum(isinstance(r, Report) for r in results) == 3, results
    assert sum(isinstance(r, Refused) for r in results) == 5, results
    assert run(Report.count()) == 3
    assert report_emails() == 3 * 2  # acknowledgement + the learner told, for each one sent


def test_parallel_posts_over_http_let_exactly_three_through(client: Any, app: Litestar) -> None:
    world: World = run(build_world())
    browsers = []
    for _ in range(6):
        browser = TestClient(app, base_url=BASE_URL)
        log_in(browser, "tara")
        browsers.append((browser, csrf_token(browser, world.viewer())))
    barrier = threading.Barrier(len(browsers))

    def send(pair: tuple[Any, str]) -> int:
        barrier.wait(timeout=10)
        return post(pair[0], f"{world.viewer()}/report", pair[1]).status_code  # type: ignore[no-any-return]

    with ThreadPoolExecutor(len(browsers)) as pool:
        statuses = sorted(pool.map(send, browsers))
    assert statuses == [303, 303, 303, 429, 429, 429]
    assert run(Report.count()) == 3
    assert report_emails() == 3 * 2
