"""Checks on the verify page counted per document and day (VerifyTally): a burst of scans is one row
and one line of the learner's Activity, "… checked on the verify page N times on a day", newest
first among the other events, and nothing that says who checked."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from src import audit, db
from src import connections as actions
from src.audit import AuditAction
from src.clock import utcnow
from src.documents import issue, new_verify_code, printed, record_checks
from src.tables.connections import AccessEvent
from src.tables.documents import VerifyTally
from tests.support.client import log_in, run
from tests.support.factories import make_account
from tests.support.pages import html
from tests.support.verify_fixtures import shelf

LONDON = ZoneInfo("Europe/London")


def long(value: date) -> str:
    return value.strftime("%-d %B %Y")


def activity(client) -> list[str]:
    return [" ".join(li.text().split()) for li in html(client.get("/activity")).css("#activity-list li")]


def tallies() -> list[tuple[int, date, int]]:
    rows = run(VerifyTally.select(VerifyTally.document, VerifyTally.day, VerifyTally.checks))
    return sorted((row["document"], row["day"], row["checks"]) for row in rows)


async def _gathered(*coroutines) -> None:
    await asyncio.gather(*coroutines)


async def _one_writer(document_id: int, at: datetime) -> None:
    """One check written by a transaction of its own, as another process's request would."""
    row = {"document": document_id, "day": at.astimezone(LONDON).date(), "checks": 1, "last_at": at}
    async with db.engine().transaction():
        await db.add_counts(VerifyTally, ("document", "day"), "checks", "last_at", [row])


def test_300_parallel_scans_of_one_code_are_one_row_and_one_activity_line(client, day):
    docs = run(shelf(day, can_log_in=True))
    now = utcnow()
    run(_gathered(*(record_checks([docs.valid.id], now, LONDON) for _ in range(300))))
    assert tallies() == [(docs.valid.id, now.astimezone(LONDON).date(), 300)]
    assert run(AccessEvent.count()) == 0
    log_in(client, "lena")
    assert activity(client) == [
        f"{long(day)} “Level 3 Diploma in Data” checked on the verify page 300 times on {long(day)}"
    ]


def test_300_writers_at_once_add_up_to_one_row_of_300(day):
    """Each its own transaction (on PostgreSQL, its own pooled connection): the unique (document,
    day) index and ON CONFLICT … DO UPDATE lose no increment however the writers interleave."""
    docs = run(shelf(day))
    now = utcnow()
    run(_gathered(*(_one_writer(docs.valid.id, now) for _ in range(300))))
    assert tallies() == [(docs.valid.id, now.astimezone(LONDON).date(), 300)]


def test_a_batch_of_many_documents_is_one_upsert(day, monkeypatch):
    docs = run(shelf(day))
    ids = [docs.valid.id, docs.expired.id, docs.valid.id, docs.revoked.id, docs.valid.id]
    calls = []

    async def counted(*args):
        calls.append(args)
        await db.add_counts(*args)

    # The module, not the package face's `verify` function of the same name.
    monkeypatch.setattr(sys.modules["src.documents.verify"], "add_counts", counted)
    now = utcnow()
    run(record_checks(ids, now, LONDON))
    assert len(calls) == 1
    today = now.astimezone(LONDON).date()
    assert tallies() == sorted(
        [(docs.valid.id, today, 3), (docs.expired.id, today, 1), (docs.revoked.id, today, 1)]
    )


def test_a_lone_check_is_written_at_once_and_a_stream_in_gathered_batches(day, monkeypatch):
    """The writer waits GATHER_SECONDS only when checks came while it wrote (a steady stream): a
    check alone is counted when its request ends, the ones behind it in one more batch."""
    docs = run(shelf(day))
    module = sys.modules["src.documents.verify"]
    waits: list[float] = []
    batches: list[int] = []
    real_sleep = asyncio.sleep

    async def waited(seconds: float) -> None:
        waits.append(seconds)
        await real_sleep(0)

    async def counted(table, keys, count, latest, rows):
        batches.append(sum(row["checks"] for row in rows))
        await db.add_counts(table, keys, count, latest, rows)

    monkeypatch.setattr(module, "sleep", waited)
    monkeypatch.setattr(module, "add_counts", counted)
    now = utcnow()
    run(record_checks([docs.valid.id], now, LONDON))
    assert (waits, batches) == ([], [1])

    run(_gathered(*(record_checks([docs.valid.id], now, LONDON) for _ in range(20))))
    assert waits == [module.GATHER_SECONDS] and batches == [1, 1, 19]
    assert tallies() == [(docs.valid.id, now.astimezone(LONDON).date(), 21)]


def test_the_day_is_the_portal_s_day():
    at = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)  # 00:30 on 1 July in London (summer time)
    learner = run(make_account("learner", "lena", password=None))
    document = run(issue(learner, "Food Hygiene", "APC-9", date(2025, 1, 5)))
    run(record_checks([document.id], at, LONDON))
    run(record_checks([document.id], at, ZoneInfo("UTC")))
    assert tallies() == [(document.id, date(2026, 6, 30), 1), (document.id, date(2026, 7, 1), 1)]


def test_checks_on_two_days_are_two_lines_among_the_events_newest_first(client, day):
    docs = run(shelf(day, can_log_in=True))
    yesterday = utcnow() - timedelta(days=1)
    run(record_checks([docs.valid.id] * 3, yesterday, LONDON))
    tess = run(make_account("third_party", "tess", password=None, company_name="Acme Care"))
    connection = run(actions.add_connection(tess, "lena@example.com", "", day))
    run(audit.record(AuditAction.viewed_documents, tess, connection=connection.id))
    run(record_checks([docs.valid.id], utcnow(), LONDON))
    log_in(client, "lena")
    items = html(client.get("/activity")).css("#activity-list li")
    assert [" ".join(li.css("span")[1].text().split()) for li in items] == [
        f"“Level 3 Diploma in Data” checked on the verify page once on {long(day)}",
        "Tess Tester (Acme Care) viewed documents",
        "Tess Tester (Acme Care) requested",
        f"“Level 3 Diploma in Data” checked on the verify page 3 times on "
        f"{long(yesterday.astimezone(LONDON).date())}",
    ]
    assert [a.attributes["href"] for a in items[0].css("a")] == [f"/documents/{docs.valid.id}"]


def test_someone_else_s_documents_counts_are_not_shown(client, day):
    docs = run(shelf(day, can_log_in=True))
    olga = run(make_account("learner", "olga", password=None))
    hers = run(issue(olga, "Forklift Licence", "APC-8", date(2025, 2, 1)))
    now = utcnow()
    run(record_checks([hers.id, hers.id, docs.valid.id], now, LONDON))
    log_in(client, "lena")
    lines = activity(client)
    assert len(lines) == 1
    assert "“Level 3 Diploma in Data” checked on the verify page once" in lines[0]
    # Lena has a "Forklift Licence" of her own (in the page's filter); Olga's is not in the list.
    assert "Forklift" not in html(client.get("/activity")).css_first("#activity-list").text()


def test_checks_logged_one_by_one_before_the_counts_still_show(client, day):
    docs = run(shelf(day, can_log_in=True))
    run(
        AccessEvent.insert(
            AccessEvent(action=AuditAction.checked_on_the_verify_page.value, document=docs.valid.id)
        )
    )
    log_in(client, "lena")
    lines = activity(client)
    assert len(lines) == 1
    assert "Someone checked Level 3 Diploma in Data on its verify page" in lines[0]


def test_a_typing_error_or_an_unknown_code_counts_nothing(client, day):
    docs = run(shelf(day))
    code = docs.valid.verify_code
    typo = printed(code)[:-1] + ("0" if code[-1] != "0" else "1")
    assert client.get(f"/v/{typo}").status_code == 400
    assert client.get(f"/v/{new_verify_code()}").status_code == 404
    assert tallies() == []
