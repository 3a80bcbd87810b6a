"""Issue 22, item 1: the opt-in weekly email that counts the views of a learner's documents. Off
until the learner switches it on (with or without JavaScript); one email a week at most, whatever
runs the job and however often (a unique outbox key per account and week, tested in parallel on
both engines); none in a week without views, none for a learner who did not ask."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from src import connections as actions
from src.connections import send_weekly_views, week_before
from src.documents import issue, record_staff_view
from src.tables.accounts import Account
from src.tables.outbox import OutboxEmail
from tests.support.client import post_form, run
from tests.support.factories import make_account
from tests.support.pages import html
from tests.support.smtp import Mailbox, link_in, text_of

LONDON = ZoneInfo("Europe/London")


def long(value: date) -> str:
    return value.strftime("%-d %B %Y")


def weekly_rows() -> list[str]:
    rows = run(OutboxEmail.select(OutboxEmail.idempotency_key).where(OutboxEmail.template == "weekly_views"))
    return sorted(row["idempotency_key"] for row in rows)


def viewed(learner: Account, third_party: Account, day: date, times: int) -> int:
    doc = run(
        issue(learner, f"Certificate of {learner.username}", f"W-{learner.id}", day - timedelta(days=90))
    )
    connection = run(actions.share(learner, third_party.email, [doc.id], day + timedelta(days=30), day))
    run(actions.accept_as_third_party(third_party, connection, day))
    for _ in range(times):
        run(actions.record_document_viewed(third_party, connection.id, doc.id))
    return int(doc.id)


def switch(client: Any, wanted: str, htmx: bool = False) -> Any:
    return post_form(
        client, "/documents/weekly-email", {"weekly": wanted}, htmx=htmx, token_from="/documents"
    )


def test_the_learner_switches_the_weekly_email_on_and_off_with_and_without_javascript(
    client: Any, lena: Account, day: date
) -> None:
    run(issue(lena, "Level 3 Diploma", "APC-1", day - timedelta(days=30)))
    status = html(client.get("/documents")).css_first("#weekly-email [role=status]")
    assert status.text().startswith("Weekly email about views: off.")

    response = switch(client, "yes")
    assert response.status_code == 303 and response.headers["location"] == "/documents#weekly-email"
    assert (
        html(client.get("/documents"))
        .css_first("#weekly-email [role=status]")
        .text()
        .startswith("Weekly email about views: on.")
    )
    assert run(Account.select(Account.weekly_views_email).where(Account.id == lena.id).first()) == {
        "weekly_views_email": True
    }

    fragment = switch(client, "no", htmx=True)
    assert fragment.status_code == 200
    page = html(fragment)
    assert page.css_first("h1") is None
    assert page.css_first("#weekly-email [role=status]").text() == "Weekly email about views: off."
    assert "autofocus" in page.css_first("#weekly-email button").attributes
    assert page.css_first('#weekly-email input[name="weekly"]').attributes["value"] == "yes"
    assert run(Account.select(Account.weekly_views_email).where(Account.id == lena.id).first()) == {
        "weekly_views_email": False
    }
    # A reload of the POST's address goes back to the documents page; strange input changes nothing.
    assert client.get("/documents/weekly-email", follow_redirects=False).status_code in (302, 303)
    assert switch(client, "yes\x00" * 1000).status_code == 400  # refused as bad input, never a 500
    assert run(Account.select(Account.weekly_views_email).where(Account.id == lena.id).first()) == {
        "weekly_views_email": False
    }


def test_one_email_counts_last_weeks_views_and_nothing_more_is_sent(
    client: Any, lena: Account, tess: Account, mailbox: Mailbox, day: date
) -> None:
    switch(client, "yes")
    doc = viewed(lena, tess, day, times=2)
    sam = run(make_account("staff", "sam", password=None))
    run(record_staff_view(sam, doc))
    olga = run(make_account("learner", "olga", password=None))  # did not ask: no email
    viewed(olga, tess, day, times=4)
    quiet = run(make_account("learner", "quinn", password=None))  # asked, but nothing happened
    run(Account.update({Account.weekly_views_email: True}).where(Account.id == quiet.id))

    run(send_weekly_views(day, LONDON))  # this week's views are counted once the week is over
    assert weekly_rows() == []
    next_week = day + timedelta(days=7)
    for _ in range(3):
        assert run(send_weekly_views(next_week, LONDON)) in (0, 1)
    message = mailbox.wait_for(to=lena.email, subject="of your documents this week")
    assert message["Subject"] == "3 views of your documents this week"
    first, last = week_before(next_week)
    assert (first, last) == (
        day - timedelta(days=day.weekday()),
        day - timedelta(days=day.weekday()) + timedelta(days=6),
    )
    assert f"viewed 3 times from {long(first)} to {long(last)}" in text_of(message)
    assert client.get(link_in(message, "/documents")).status_code == 200
    assert weekly_rows() == [f"weekly-views:{lena.id}:{first.isoformat()}"]

    run(send_weekly_views(next_week + timedelta(days=7), LONDON))  # a week without views
    assert weekly_rows() == [f"weekly-views:{lena.id}:{first.isoformat()}"]
    # The other emails (shares accepted) are left; of the weekly ones, only the one above arrived.
    assert [m["To"] for m in mailbox.drain() if "of your documents this week" in m["Subject"]] == []


async def _at_once(day: date, times: int) -> None:
    await asyncio.gather(*(send_weekly_views(day, LONDON) for _ in range(times)))


def test_runs_in_parallel_queue_one_email_per_learner_and_week(
    client: Any, lena: Account, tess: Account, day: date
) -> None:
    """Twenty runs at once (on PostgreSQL each on its own pooled connection, as several worker
    processes would be): the outbox's unique key keeps one email per learner and week."""
    learners = [lena] + [run(make_account("learner", f"l{n}", password=None)) for n in range(4)]
    run(Account.update({Account.weekly_views_email: True}).where(Account.id.is_in([p.id for p in learners])))
    for n, learner in enumerate(learners, 1):
        viewed(learner, tess, day, times=n)
    next_week = day + timedelta(days=7)
    run(_at_once(next_week, 20))
    first = week_before(next_week)[0].isoformat()
    assert weekly_rows() == sorted(f"weekly-views:{p.id}:{first}" for p in learners)
    counts = {
        row["recipient"]: row["context"]
        for row in run(
            OutboxEmail.select(OutboxEmail.recipient, OutboxEmail.context).where(
                OutboxEmail.template == "weekly_views"
            )
        )
    }
    assert len(counts) == 5
    assert all(f'"views": {n}' in str(counts[p.email]).replace("'", '"') for n, p in enumerate(learners, 1))


def test_the_periodic_reminder_job_sends_it(
    client: Any, lena: Account, tess: Account, settings: Any, day: date, monkeypatch: Any
) -> None:
    """The job every web process (or `portal worker`) runs: the weekly email is part of it."""
    from src import app as app_module

    run(Account.update({Account.weekly_views_email: True}).where(Account.id == lena.id))
    viewed(lena, tess, day, times=1)
    monkeypatch.setattr(app_module, "today_in", lambda tz: day + timedelta(days=7))
    run(app_module.reminder_job(settings).work())
    assert weekly_rows() == [f"weekly-views:{lena.id}:{week_before(day + timedelta(days=7))[0].isoformat()}"]
