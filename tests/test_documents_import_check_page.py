"""The import check page and what it lets through: names that are names (the same rule on the staff
form), the level as the learner reads it, the rows that stop the import first and a page at a time,
and a second confirm of an already-imported file said in words."""

from __future__ import annotations

from typing import Any

import pytest

from src.tables.documents import Document
from src.tables.outbox import OutboxEmail
from tests.support.client import log_in, post_form, run
from tests.support.document_staff_fixtures import make_learner, row, staff_client
from tests.support.imports import confirm, csv_bytes, outcomes, upload
from tests.support.pages import errors_on, html, notices

FORM = "/staff/documents/new"
NOT_NAMES = [
    ('=HYPERLINK("http://evil.invalid","x")', "must start with a letter, not “=”"),
    ("<img src=x onerror=alert(1)>", "must start with a letter, not “<”"),
    ("Lena<script>", "may use only letters, spaces, hyphens (-), apostrophes (') and full stops, not “<”"),
    ("+SUM(A1)", "must start with a letter"),
    ("-2+3", "must start with a letter"),
    ("@cmd", "must start with a letter"),
    ("\t=cmd", "must start with a letter"),  # the tab is trimmed; the formula is not
    ("Lena3", "not “3”"),
    ("Le\u202ena", "not “U+202E”"),  # a right-to-left override would print the name backwards
]
NAMES = ["O'Brien", "D\u2019Arcy", "Jean-Luc", "St. John", "Thị", "محمد", "देवनागरी", "李小龍", "Zoë Ålund"]


def messages_of(tr: Any) -> list[str]:
    return [li.text(strip=True) for li in tr.css(".row-errors li")]


@pytest.mark.parametrize(("name", "words"), NOT_NAMES, ids=[words for _, words in NOT_NAMES])
def test_an_import_refuses_names_that_are_not_names_beside_the_row(
    client: Any, name: str, words: str
) -> None:
    staff_client(client)
    for column, label in (("first_name", "First name"), ("last_name", "Last name")):
        response = upload(client, csv_bytes([row(**{column: name})]))
        assert outcomes(response) == [("C-1001", "Error")]
        (message,) = messages_of(html(response).css_first("#import-result tbody tr"))
        assert message.startswith(label) and words in message
        assert html(response).css_first('form[action$="/confirm"]') is None


def test_names_of_any_script_are_accepted_and_shown_whole_as_printed(client: Any) -> None:
    staff_client(client)
    rows = [
        row(certificate_number=f"N-{n}", learner_email=f"p{n}@example.com", first_name=name)
        for n, name in enumerate(NAMES)
    ]
    # A middle name decomposed (i + combining dot below, as some computers save it) is the same name.
    rows.append(row(certificate_number="N-T", first_name="Lan", middle_name="Thi\u0323", last_name="Nguyễn"))
    response = upload(client, csv_bytes(rows))
    assert [outcome for _, outcome in outcomes(response)] == ["New"] * len(rows)
    learners = [tr.css("td")[2].text(strip=True) for tr in html(response).css("#import-result tbody tr")]
    assert learners[-1] == "Lan Thị Nguyễnlena@example.com"
    assert learners[0].startswith("O'Brien Okafor")
    done = confirm(client, response)
    assert done.status_code == 303
    printed = run(Document.select(Document.name_as_printed).where(Document.certificate_number == "N-T"))
    assert printed == [{"name_as_printed": "Lan Th\u1ecb Nguyễn"}]


@pytest.mark.parametrize(("name", "words"), NOT_NAMES[:3])
def test_the_staff_form_refuses_the_same_names_beside_the_field(client: Any, name: str, words: str) -> None:
    staff_client(client)
    response = post_form(client, FORM, row(middle_name=name), token_from=FORM)
    assert response.status_code == 422
    message = errors_on(response)["middle_name"]
    assert message.startswith("Middle name") and words in message
    assert run(Document.count()) == 0


def test_a_name_too_long_to_print_is_refused(client: Any) -> None:
    staff_client(client)
    long = "A" * 100
    response = upload(client, csv_bytes([row(first_name=long, middle_name=long, last_name="Okafor")]))
    assert messages_of(html(response).css_first("#import-result tbody tr")) == [
        "The name as printed (first, middle and last) must be 200 characters or fewer"
    ]


@pytest.mark.parametrize("written", ["Level 3", "level 3", "LEVEL  3", "L3", "3"])
def test_the_level_column_is_stored_once_and_the_learner_reads_level_3(
    client: Any, other_client: Any, written: str
) -> None:
    staff_client(client)
    run(make_learner("lena", email_address="lena@example.com"))
    done = confirm(client, upload(client, csv_bytes([row(level=written)])))
    assert done.status_code == 303
    assert run(Document.select(Document.level)) == [{"level": "3"}]
    log_in(other_client, "lena")
    card = html(other_client.get("/documents")).css_first("ul.cards li")
    facts = card.css("p")[0].text(strip=True)
    assert facts == "Certificate · 603/1234/5 · Level 3"


def test_other_levels_are_kept_as_written(client: Any, other_client: Any) -> None:
    staff_client(client)
    run(make_learner("lena", email_address="lena@example.com"))
    confirm(client, upload(client, csv_bytes([row(level="Entry Level 3")])))
    assert run(Document.select(Document.level)) == [{"level": "Entry Level 3"}]
    log_in(other_client, "lena")
    facts = html(other_client.get("/documents")).css_first("ul.cards li p").text(strip=True)
    assert facts == "Certificate · 603/1234/5 · Entry Level 3"


def test_a_big_check_shows_errors_first_and_pages_the_rest(client: Any) -> None:
    staff_client(client)
    rows = [row(certificate_number=f"P-{n}", learner_email=f"p{n}@example.com") for n in range(250)]
    rows[150]["awarded_on"] = "31/02/2025"
    rows[200]["first_name"] = "=cmd"
    first = upload(client, csv_bytes(rows))
    page = html(first)
    lines = [tr.css_first("td").text(strip=True) for tr in page.css("#import-result tbody tr")]
    assert lines == ["152", "202", *[str(n) for n in range(2, 100)]]
    assert page.css_first("#import-result caption").text(strip=True) == (
        "Rows 1 to 100 of 250, errors and conflicts first"
    )
    assert page.css_first('nav.pagination a[rel="prev"]') is None
    following = page.css_first('nav.pagination a[rel="next"]').attributes["href"]
    second = html(client.get(following))
    lines = [tr.css_first("td").text(strip=True) for tr in second.css("#import-result tbody tr")]
    assert lines == [str(n) for n in range(100, 201) if n != 152]
    last = html(client.get(second.css_first('nav.pagination a[rel="next"]').attributes["href"]))
    assert len(last.css("#import-result tbody tr")) == 50
    assert last.css_first('nav.pagination a[rel="next"]') is None
    back = last.css_first('nav.pagination a[rel="prev"]').attributes["href"]
    assert (
        html(client.get(back))
        .css_first("#import-result caption")
        .text(strip=True)
        .startswith("Rows 101 to 200")
    )
    beyond = html(client.get(following.replace("page=2", "page=99")))
    assert beyond.css_first("#import-result caption").text(strip=True).startswith("Rows 201 to 250")


def test_the_5000_row_check_page_is_small(client: Any) -> None:
    staff_client(client)
    many = [row(certificate_number=f"N-{n}", learner_email=f"p{n}@example.com") for n in range(5000)]
    response = upload(client, csv_bytes(many))
    assert html(response).css_first(".counts li strong").text() == "5000"
    assert len(html(response).css("#import-result tbody tr")) == 100
    assert len(response.content) < 60_000  # 38 KB; it was 1.2 MB with every row


def test_confirming_a_file_already_imported_from_another_check_says_so(client: Any) -> None:
    staff_client(client)
    data = csv_bytes([row(certificate_number="R-1"), row(certificate_number="R-2")])
    # The same file checked twice (two tabs), then confirmed in both, without JavaScript.
    first, second = upload(client, data), upload(client, data)
    assert confirm(client, first).status_code == 303
    again = confirm(client, second)
    assert again.status_code == 303
    page = client.get(again.headers["location"])
    said = " ".join(notices(page))
    assert "Every row of this file was already imported: nothing was written." in said
    assert "already imported on" in said and "cannot be imported" not in said
    assert "Every row is already in the portal" in html(page).css_first("#import-result").text()
    assert run(Document.count()) == 2 and run(OutboxEmail.count()) == 2  # an activation, one email
