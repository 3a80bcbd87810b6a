"""Issue 22, item 3: a document's own validity. The learner is emailed 90 and 30 days before its
"valid until" day and the day after it passed, exactly once each however often, late or in
parallel the job runs; third parties see the documents they can use today that expire within 90
days, and a count on their dashboard; staff see a count of those expiring within 30 days. "Valid
until" (the document) is always worded apart from "your access ends" (the connection)."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date, timedelta
from typing import Any

from src.documents import issue, send_validity_reminders
from src.tables.accounts import Account
from src.tables.outbox import OutboxEmail
from tests.support.client import log_in, run
from tests.support.factories import build_connection, make_account, with_fast_password
from tests.support.pages import html
from tests.support.smtp import Mailbox, assert_no_more_mail, link_in, text_of
from tests.support.verify_fixtures import revoke


def long(value: date) -> str:
    return value.strftime("%-d %B %Y")


def queued() -> Counter[str]:
    rows = run(
        OutboxEmail.select(OutboxEmail.idempotency_key).where(OutboxEmail.template.like("document_validity%"))
    )
    return Counter(row["idempotency_key"] for row in rows)


def test_the_90_day_30_day_and_passed_reminders_arrive_once_each(
    client: Any, lena: Account, mailbox: Mailbox, day: date
) -> None:
    until = day + timedelta(days=100)
    doc = run(issue(lena, "First Aid at Work", "APC-2", day - timedelta(days=265), valid_until=until))
    never = [
        run(issue(lena, "Level 3 Diploma", "APC-1", day - timedelta(days=300))),  # no valid until
        run(issue(lena, "Forklift Licence", "APC-4", day - timedelta(days=300), valid_until=until)),
    ]
    run(revoke(never[1]))

    run(send_validity_reminders(day))  # 100 days ahead: nothing yet
    assert queued() == Counter()

    for runs_on in (day + timedelta(days=10), day + timedelta(days=10), day + timedelta(days=60)):
        run(send_validity_reminders(runs_on))  # 90 days ahead, twice, then a run 40 days ahead
    early = mailbox.wait_for(to=lena.email, subject="is valid until")
    assert early["Subject"] == f'Your document "First Aid at Work" is valid until {long(until)}'
    assert "(90 days from today)" in text_of(early)
    assert client.get(link_in(early, "/documents")).status_code == 200
    assert link_in(early, "/documents") == f"/documents/{doc.id}"

    for runs_on in (day + timedelta(days=70), day + timedelta(days=99), day + timedelta(days=100)):
        run(send_validity_reminders(runs_on))  # 30 days ahead, then the day before, then the day
    late = mailbox.wait_for(to=lena.email, subject="is valid until")
    assert "(30 days from today)" in text_of(late)

    for runs_on in (day + timedelta(days=101), day + timedelta(days=102), day + timedelta(days=200)):
        run(send_validity_reminders(runs_on))  # the day after, again, and long after
    passed = mailbox.wait_for(to=lena.email, subject="expired on")
    assert passed["Subject"] == f'Your document "First Aid at Work" expired on {long(until)}'
    assert f"was valid until {long(until)}" in text_of(passed)
    for message in (early, late, passed):  # the document's validity, never the connection's words
        assert "access" not in message["Subject"].lower()

    assert queued() == Counter(
        {f"validity:{doc.id}:{which}:{until.isoformat()}": 1 for which in ("90", "30", "passed")}
    )
    assert_no_more_mail(mailbox, lena.email)


def test_a_late_first_run_sends_only_the_reminder_that_is_due(client: Any, lena: Account, day: date) -> None:
    """A document issued with 20 days left gets the 30-day reminder only; one that passed 40 days
    ago (a job down for weeks) gets nothing."""
    soon = run(issue(lena, "First Aid at Work", "APC-2", day, valid_until=day + timedelta(days=20)))
    run(issue(lena, "Food Hygiene", "APC-3", day - timedelta(days=400), valid_until=day - timedelta(days=40)))
    run(send_validity_reminders(day))
    assert queued() == Counter({f"validity:{soon.id}:30:{(day + timedelta(days=20)).isoformat()}": 1})


async def _at_once(days: list[date]) -> None:
    await asyncio.gather(*(send_validity_reminders(runs_on) for runs_on in days))


def test_the_job_run_in_parallel_and_restarted_queues_each_reminder_once(
    client: Any, lena: Account, day: date
) -> None:
    """Twenty runs at once (on PostgreSQL each on its own pooled connection, as several worker
    processes would be), then a "restart" that runs again: one row per document and reminder."""
    docs = [
        run(
            issue(
                lena,
                f"Certificate {n}",
                f"APC-{n}",
                day - timedelta(days=n),
                valid_until=day + timedelta(days=n),
            )
        )
        for n in range(1, 6)
    ]
    run(_at_once([day] * 20))
    run(send_validity_reminders(day))
    expected = {
        f"validity:{d.id}:30:{(day + timedelta(days=n)).isoformat()}": 1 for n, d in enumerate(docs, 1)
    }
    assert queued() == Counter(expected)
    run(_at_once([day + timedelta(days=10)] * 20))  # the passed ones for the first five days
    passed = [k for k in queued() if ":passed:" in k]
    assert sorted(passed) == sorted(
        f"validity:{d.id}:passed:{(day + timedelta(days=n)).isoformat()}" for n, d in enumerate(docs, 1)
    )
    assert set(queued().values()) == {1}


def test_third_parties_see_what_they_can_use_today_that_expires_within_90_days(
    client: Any, lena: Account, tess: Account, day: date
) -> None:
    olga = run(make_account("learner", "olga", password=None, first_name="Olga", last_name="Other"))
    otto = run(make_account("third_party", "otto", password=None))
    soon = run(
        issue(
            lena,
            "First Aid at Work",
            "APC-2",
            day - timedelta(days=200),
            valid_until=day + timedelta(days=10),
        )
    )
    later = run(
        issue(lena, "Food Hygiene", "APC-3", day - timedelta(days=200), valid_until=day + timedelta(days=60))
    )
    far = run(
        issue(
            lena, "Level 3 Diploma", "APC-1", day - timedelta(days=200), valid_until=day + timedelta(days=200)
        )
    )
    gone = run(
        issue(lena, "Old Licence", "APC-9", day - timedelta(days=900), valid_until=day - timedelta(days=1))
    )
    revoked = run(
        issue(
            lena, "Forklift Licence", "APC-4", day - timedelta(days=200), valid_until=day + timedelta(days=20)
        )
    )
    run(revoke(revoked))
    usable = run(build_connection("active", lena, tess, [soon, later, far, gone, revoked]))
    hidden = run(
        issue(olga, "Olga's Award", "APC-5", day - timedelta(days=200), valid_until=day + timedelta(days=5))
    )
    run(build_connection("expired", olga, tess, [hidden]))  # Tess's access to it has ended
    others = run(
        issue(olga, "Otto's Share", "APC-6", day - timedelta(days=200), valid_until=day + timedelta(days=7))
    )
    run(build_connection("active", olga, otto, [others]))

    log_in(client, "Tess")
    page = html(client.get("/connections/expiring-soon"))
    rows = page.css("#expiring-list li")
    assert [r.css_first("a").text() for r in rows] == ["First Aid at Work", "Food Hygiene"]
    first = " ".join(rows[0].text().split())
    assert f"Document valid until {long(day + timedelta(days=10))}" in first
    assert f"Your access ends on {long(usable.expires_on)}" in first
    assert "Lena Lovelace" in first
    link = rows[0].css_first("a").attributes["href"]
    assert link == f"/connections/{usable.id}/documents/{soon.id}"
    assert client.get(link).status_code == 200
    assert client.get("/connections/expiring-soon", headers={"HX-Request": "true"}).status_code == 200

    dashboard = html(client.get("/dashboard"))
    count = " ".join(dashboard.css_first("#expiring-count").text().split())
    assert count.startswith("2 documents shared with you are valid until a day within the next 90 days.")
    assert dashboard.css_first('#expiring-count a[href="/connections/expiring-soon"]') is not None

    # Another third party sees only their own; a learner has no such page.
    client.cookies.clear()
    run(with_fast_password(otto))
    log_in(client, "otto")
    assert [
        r.css_first("a").text()
        for r in html(client.get("/connections/expiring-soon")).css("#expiring-list li")
    ] == ["Otto's Share"]
    client.cookies.clear()
    log_in(client, "lena")
    assert client.get("/connections/expiring-soon").status_code in (403, 404)
    assert html(client.get("/dashboard")).css_first("#expiring-count") is None


def test_staff_see_how_many_documents_expire_within_30_days(client: Any, lena: Account, day: date) -> None:
    for n, days in enumerate((0, 5, 30, 31, -1, 90)):
        run(
            issue(
                lena,
                f"Certificate {n}",
                f"APC-{n}",
                day - timedelta(days=400),
                valid_until=day + timedelta(days=days),
            )
        )
    revoked = run(
        issue(lena, "Revoked", "APC-R", day - timedelta(days=400), valid_until=day + timedelta(days=3))
    )
    run(revoke(revoked))
    sam = run(make_account("staff", "sam", password=None))
    run(with_fast_password(sam))
    client.cookies.clear()
    log_in(client, "sam")
    count = " ".join(html(client.get("/dashboard")).css_first("#expiring-count").text().split())
    assert count == "3 valid documents are valid until a day within the next 30 days."


def test_the_periodic_reminder_job_sends_them(client: Any, lena: Account, settings: Any, day: date) -> None:
    """The job every web process (or `portal worker`) runs: validity reminders are part of it."""
    from src.app import reminder_job

    soon = run(issue(lena, "First Aid at Work", "APC-2", day, valid_until=day + timedelta(days=10)))
    job = reminder_job(settings)
    run(job.work())
    run(job.work())
    assert queued() == Counter({f"validity:{soon.id}:30:{(day + timedelta(days=10)).isoformat()}": 1})
