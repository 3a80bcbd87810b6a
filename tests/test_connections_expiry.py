"""Access ends at the end of the `expires_on` day in the portal's time zone (Europe/London), with a
frozen clock: usable at 23:59 local time on that day, not at 00:00 the next, through the rule, the
query and the pages alike, on ordinary days and on both daylight-saving change days. And the words
for access ending are never the words for a document's own validity."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from src import clock
from src import connections as actions
from src.connections import is_usable, shared_documents
from src.documents import issue
from src.tables.accounts import Account
from src.tables.connections import Connection
from tests.support.client import log_in, run
from tests.support.clocks import fmt, freeze
from tests.support.factories import People
from tests.support.pages import html

LONDON = ZoneInfo("Europe/London")
WINTER, SUMMER = date(2026, 1, 15), date(2026, 7, 15)
CLOCKS_GO_FORWARD, CLOCKS_GO_BACK = date(2026, 3, 29), date(2026, 10, 25)


def last_minute(day: date) -> datetime:
    """23:59 local time on `day`, as the UTC instant the server's clock would read."""
    return datetime(day.year, day.month, day.day, 23, 59, tzinfo=LONDON).astimezone(UTC)


def first_minute_after(day: date) -> datetime:
    after = day + timedelta(days=1)
    return datetime(after.year, after.month, after.day, 0, 0, tzinfo=LONDON).astimezone(UTC)


def test_the_change_days_move_the_boundary_off_midnight_utc() -> None:
    """The cases below really are different: on the spring change day the first minute after access
    ends is still the same day in UTC; on an ordinary winter day it is midnight UTC."""
    assert first_minute_after(CLOCKS_GO_FORWARD) == datetime(2026, 3, 29, 23, 0, tzinfo=UTC)
    assert last_minute(CLOCKS_GO_BACK) == datetime(2026, 10, 25, 23, 59, tzinfo=UTC)
    assert last_minute(date(2026, 10, 24)) == datetime(2026, 10, 24, 22, 59, tzinfo=UTC)
    assert first_minute_after(WINTER) == datetime(2026, 1, 16, 0, 0, tzinfo=UTC)


def active_until(
    learner: Account, third_party: Account, end: date, valid_until: date | None = None
) -> Connection:
    start = end - timedelta(days=5)
    doc = run(
        issue(
            learner,
            "First Aid at Work",
            f"APC-{end.isoformat()}",
            start - timedelta(days=100),
            valid_until=valid_until,
        )
    )
    connection = run(actions.share(learner, third_party.email, [doc.id], end, start))
    run(actions.accept_as_third_party(third_party, connection, start))
    return connection


@pytest.mark.parametrize("end", [WINTER, SUMMER, CLOCKS_GO_FORWARD, CLOCKS_GO_BACK], ids=str)
def test_the_rule_and_the_query_agree_at_the_last_and_first_minute(
    monkeypatch: pytest.MonkeyPatch, people: People, end: date
) -> None:
    learner, third_party = people.learner, people.third_party
    connection = active_until(learner, third_party, end)

    freeze(monkeypatch, last_minute(end))
    today = clock.today_in(LONDON)
    assert today == end
    assert is_usable(connection, today)
    assert [d["title"] for d in run(shared_documents(connection.id, third_party, today))] == [
        "First Aid at Work"
    ]

    freeze(monkeypatch, first_minute_after(end))
    today = clock.today_in(LONDON)
    assert today == end + timedelta(days=1)
    assert not is_usable(connection, today)
    assert run(shared_documents(connection.id, third_party, today)) == []
    # The learner still sees what they share: the rule limits the third party's view only.
    assert len(run(shared_documents(connection.id, learner, today))) == 1


def _filter_ids(client: Any, show: str) -> set[int]:
    return {
        int((li.attributes["id"] or "").removeprefix("connection-"))
        for li in html(client.get(f"/connections?show={show}")).css("li.connection")
    }


def _active_count(client: Any) -> int:
    summary = html(client.get("/connections")).css_first("#connection-counts")
    return next(
        int(li.css_first("strong").text()) for li in summary.css("li") if li.text().strip().endswith("active")
    )


@pytest.mark.parametrize("end", [CLOCKS_GO_FORWARD, CLOCKS_GO_BACK, SUMMER], ids=str)
def test_the_third_partys_pages_open_until_the_last_minute_and_close_after(
    client: Any, monkeypatch: pytest.MonkeyPatch, people: People, end: date
) -> None:
    learner, third_party = people.learner, people.third_party
    connection = active_until(learner, third_party, end)
    log_in(client, third_party.username)
    path = f"/connections/{connection.id}"

    freeze(monkeypatch, last_minute(end))
    page = html(client.get(path))
    assert [li.css_first("span").text() for li in page.css("ul.rows li")] == ["First Aid at Work"]
    assert f"Your access ends on {fmt(end)}" in page.css_first("main").text()
    assert _filter_ids(client, "active") == {connection.id} and _filter_ids(client, "ended") == set()
    assert _active_count(client) == 1
    row = html(client.get("/connections")).css_first(f"#connection-{connection.id}")
    assert row.css_first(".access").text(strip=True) == f"Your access ends on {fmt(end)}"
    assert row.css_first(f'a[href="{path}"]') is not None

    freeze(monkeypatch, first_minute_after(end))
    page = html(client.get(path))
    assert page.css("ul.rows li") == []
    assert f"Your access ended on {fmt(end)}" in page.css_first("main").text()
    assert _filter_ids(client, "active") == set() and _filter_ids(client, "ended") == {connection.id}
    assert _active_count(client) == 0
    row = html(client.get("/connections")).css_first(f"#connection-{connection.id}")
    assert row.css_first(".state").text(strip=True) == "Access ended"
    assert row.css_first(".access").text(strip=True) == f"Your access ended on {fmt(end)}"


def test_access_words_are_never_document_validity_words(
    client: Any, monkeypatch: pytest.MonkeyPatch, people: People
) -> None:
    learner, third_party = people.learner, people.third_party
    end = SUMMER
    # The document's own validity ends on the very same day as access: the words must still differ.
    connection = active_until(learner, third_party, end, valid_until=end)
    log_in(client, third_party.username)
    freeze(monkeypatch, last_minute(end))

    page = html(client.get(f"/connections/{connection.id}"))
    document_status = page.css_first("ul.rows li strong").text(strip=True)
    access = next(
        dd.text(strip=True)
        for dt, dd in zip(page.css("dl.summary dt"), page.css("dl.summary dd"), strict=True)
        if dt.text(strip=True) == "Access"
    )
    assert document_status == f"Document valid until {fmt(end)}"
    assert access == f"Your access ends on {fmt(end)}"
    assert "access" not in document_status.lower() and "valid" not in access.lower()

    freeze(monkeypatch, first_minute_after(end))
    row = html(client.get("/connections")).css_first(f"#connection-{connection.id}")
    words = row.css_first(".state").text(strip=True) + " " + row.css_first(".access").text(strip=True)
    assert "Access ended" in words
    for wrong in ("expired", "invalid", "not valid", "revoked"):
        assert wrong not in words.lower()
