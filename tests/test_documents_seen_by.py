"""Issue 22, item 1: on each of her documents a learner sees who viewed it (third parties by name and
organisation, staff as "Staff of <ORG_NAME>"), a page at a time, newest first, and how often it was
checked on its verify page (a count and a day, nothing about who); her Activity filters by document;
a third party is told plainly on the viewer that the learner sees their views; another person's
document's views answer 404."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from src import connections as actions
from src.clock import utcnow
from src.documents import issue, record_checks
from src.tables.accounts import Account
from src.tables.connections import AccessEvent
from tests.support.client import log_in, run
from tests.support.factories import make_account, with_fast_password
from tests.support.pages import html

LONDON = ZoneInfo("Europe/London")


def long(value: date) -> str:
    return value.strftime("%-d %B %Y")


def seen_by(response: Any) -> list[str]:
    return [" ".join(li.text().split()) for li in html(response).css("#seen-by li")]


def share_with(learner: Account, third_party: Account, document_id: int, day: date) -> int:
    connection = run(actions.share(learner, third_party.email, [document_id], day + timedelta(days=30), day))
    run(actions.accept_as_third_party(third_party, connection, day))
    return int(connection.id)


def test_a_third_partys_and_staffs_views_and_the_verify_count_show_on_the_learners_document(
    client: Any, other_client: Any, lena: Account, tess: Account, day: date
) -> None:
    doc = run(issue(lena, "Level 3 Diploma", "APC-1", day - timedelta(days=300)))
    connection_id = share_with(lena, tess, doc.id, day)
    page = html(client.get(f"/documents/{doc.id}"))
    assert "Nobody has viewed this document yet." in page.css_first("#seen-by").text()
    assert " ".join(page.css_first("#verify-checks").text().split()).startswith(
        "Not checked on the verify page yet."
    )

    # Tess opens it, and is told on the page that Lena sees the view.
    log_in(other_client, "Tess")
    shown = html(other_client.get(f"/connections/{connection_id}/documents/{doc.id}"))
    notice = " ".join(shown.css_first("#views-seen-by-learner").text().split())
    assert notice.startswith("The learner can see each of your views of this document")
    assert "your organisation" in notice and notice.endswith("That is this view.")
    again = html(other_client.get(f"/connections/{connection_id}/documents/{doc.id}"))
    assert "all 2 of your views, this one included" in again.css_first("#views-seen-by-learner").text()

    # Staff open it on the staff page, and are told the learner sees it, not by name.
    sam = run(make_account("staff", "sam", password=None, first_name="Sam", last_name="Staffer"))
    run(with_fast_password(sam))
    staff = other_client
    staff.cookies.clear()
    log_in(staff, "sam")
    staff_page = html(staff.get(f"/staff/documents/{doc.id}"))
    assert "Staff of Achievement Portal" in staff_page.css_first("#staff-view-notice").text()

    # Three checks on the verify page, counted per day.
    run(record_checks([doc.id, doc.id, doc.id], utcnow(), LONDON))

    response = client.get(f"/documents/{doc.id}")
    assert response.status_code == 200
    lines = seen_by(response)
    assert len(lines) == 3
    assert lines[0].endswith("Staff of Achievement Portal")  # newest first, no staff name
    assert "Sam" not in " ".join(lines) and "Staffer" not in " ".join(lines)
    assert lines[1].endswith("Tess Turner (Acme Care)") and lines[2].endswith("Tess Turner (Acme Care)")
    checks = " ".join(html(response).css_first("#verify-checks").text().split())
    assert checks.startswith(f"Checked on the verify page: 3 times, last on {long(day)}.")
    assert "nothing about who checked" in checks

    # The same views, newest first, on the Activity page: staff named by the awarding body only.
    activity = [" ".join(li.text().split()) for li in html(client.get("/activity")).css("#activity-list li")]
    assert any("Staff of Achievement Portal viewed document “Level 3 Diploma”" in line for line in activity)
    assert not any("Sam" in line for line in activity)


def test_views_are_paged_ten_at_a_time_newest_first(
    client: Any, lena: Account, tess: Account, day: date
) -> None:
    doc = run(issue(lena, "Level 3 Diploma", "APC-1", day - timedelta(days=300)))
    connection_id = share_with(lena, tess, doc.id, day)
    events = [run(actions.record_document_viewed(tess, connection_id, doc.id)) for _ in range(23)]
    first = html(client.get(f"/documents/{doc.id}"))
    assert len(first.css("#seen-by li")) == 10
    older = first.css_first('#seen-by a[rel="next"]')
    assert older is not None and older.attributes["href"] == f"/documents/{doc.id}/views?page=2"
    assert first.css_first('#seen-by a[rel="prev"]') is None

    third = client.get(f"/documents/{doc.id}/views?page=3")
    assert third.status_code == 200
    page = html(third)
    assert page.css_first("h1").text() == "Who has seen “Level 3 Diploma”"
    assert len(page.css("#seen-by li")) == 3 and page.css_first('#seen-by a[rel="next"]') is None
    assert page.css_first('#seen-by a[rel="prev"]').attributes["href"] == f"/documents/{doc.id}/views?page=2"

    # Newest first, by time and then by id: page 1 holds the ten newest views, page 3 the three oldest.
    assert [v["id"] for v in run(actions.views_page(lena, doc.id, 1)).views] == events[:-11:-1]
    assert [v["id"] for v in run(actions.views_page(lena, doc.id, 3)).views] == events[2::-1]

    fragment = client.get(f"/documents/{doc.id}/views?page=2", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert html(fragment).css_first("h1") is None  # the list alone
    assert len(html(fragment).css("#seen-by li")) == 10
    # Strange page numbers give a page, never an error; a word is refused as bad input.
    for value in ("0", "-4", "99999999999999999999"):
        assert client.get(f"/documents/{doc.id}/views?page={value}").status_code == 200, value
    assert client.get(f"/documents/{doc.id}/views?page=x").status_code == 400


def test_someone_elses_documents_views_answer_404(
    client: Any, other_client: Any, lena: Account, tess: Account, day: date
) -> None:
    olga = run(make_account("learner", "olga", password=None, first_name="Olga"))
    run(with_fast_password(olga))
    hers = run(issue(olga, "Forklift Licence", "APC-8", day - timedelta(days=30)))
    connection_id = share_with(olga, tess, hers.id, day)
    run(actions.record_document_viewed(tess, connection_id, hers.id))
    for path in (
        f"/documents/{hers.id}",
        f"/documents/{hers.id}/views",
        f"/documents/{hers.id}/views?page=2",
        f"/activity?document={hers.id}",
        "/documents/987654/views",
        "/activity?document=987654",
    ):
        assert client.get(path).status_code == 404, path
        assert client.get(path, headers={"HX-Request": "true"}).status_code == 404, path
    # A third party and staff have no learner's views page at all.
    log_in(other_client, "Tess")
    assert other_client.get(f"/documents/{hers.id}/views").status_code in (403, 404)


def test_the_activity_page_keeps_to_one_document(
    client: Any, lena: Account, tess: Account, day: date
) -> None:
    first = run(issue(lena, "Level 3 Diploma", "APC-1", day - timedelta(days=300)))
    second = run(issue(lena, "First Aid at Work", "APC-2", day - timedelta(days=200)))
    connection_id = share_with(lena, tess, first.id, day)
    run(actions.record_document_viewed(tess, connection_id, first.id))
    run(record_checks([second.id], utcnow(), LONDON))

    def lines(path: str) -> list[str]:
        return [" ".join(li.text().split()) for li in html(client.get(path)).css("#activity-list li")]

    everything = lines("/activity")
    assert any("Level 3 Diploma" in line for line in everything)
    assert any("First Aid at Work" in line for line in everything)
    assert any("accepted" in line for line in everything)  # on the connection, about no document

    only_first = lines(f"/activity?document={first.id}")
    assert only_first and all("Level 3 Diploma" in line for line in only_first)
    only_second = lines(f"/activity?document={second.id}")
    assert len(only_second) == 1 and "“First Aid at Work” checked on the verify page once" in only_second[0]

    page = html(client.get(f"/activity?document={second.id}"))
    assert page.css_first("h1").text() == "Activity on “First Aid at Work”"
    chosen = page.css_first("select#document option[selected]")
    assert chosen is not None and chosen.attributes["value"] == str(second.id)
    # Its pages keep to the document.
    for _ in range(50):
        run(actions.record_document_viewed(tess, connection_id, first.id))
    older = html(client.get(f"/activity?document={first.id}")).css_first('#activity-list a[rel="next"]')
    assert older is not None and older.attributes["href"] == f"/activity?document={first.id}&page=2"
    second_page = lines(older.attributes["href"])
    assert second_page and all("Level 3 Diploma" in line for line in second_page)
    # The document's page links to its own activity.
    link = html(client.get(f"/documents/{first.id}")).css_first(f'a[href="/activity?document={first.id}"]')
    assert link is not None


def test_checks_recorded_one_by_one_before_the_tally_add_to_the_count(
    client: Any, lena: Account, day: date
) -> None:
    """Older single checks (AccessEvents, from before the per-day tally) count too, and the latest of
    either kind gives the day."""
    from datetime import UTC, datetime

    from src.audit import AuditAction

    doc = run(issue(lena, "Level 3 Diploma", "APC-1", day - timedelta(days=300)))
    long_ago = datetime(2026, 1, 2, 23, 30, tzinfo=UTC)  # 2 January in London too
    for _ in range(2):
        run(
            AccessEvent.insert(
                AccessEvent(action=AuditAction.checked_on_the_verify_page.value, document=doc.id, at=long_ago)
            )
        )
    text = " ".join(html(client.get(f"/documents/{doc.id}")).css_first("#verify-checks").text().split())
    assert text.startswith("Checked on the verify page: 2 times, last on 2 January 2026.")
    run(record_checks([doc.id], utcnow(), LONDON))
    text = " ".join(html(client.get(f"/documents/{doc.id}")).css_first("#verify-checks").text().split())
    assert text.startswith(f"Checked on the verify page: 3 times, last on {long(day)}.")
    # Someone else's checks never count here.
    olga = run(make_account("learner", "olga", password=None))
    hers = run(issue(olga, "Forklift Licence", "APC-8", day - timedelta(days=30)))
    run(record_checks([hers.id] * 5, utcnow(), LONDON))
    text = " ".join(html(client.get(f"/documents/{doc.id}")).css_first("#verify-checks").text().split())
    assert text.startswith("Checked on the verify page: 3 times")
