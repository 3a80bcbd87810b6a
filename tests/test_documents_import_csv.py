"""CSV import: the dry run shows every row's outcome, the confirm writes every row or none with the
learners' emails, and every malformed upload is refused with a clear message and nothing written."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from src.tables.accounts import Account
from src.tables.documents import Document, ImportBatch
from src.tables.outbox import OutboxEmail
from tests.support.client import run
from tests.support.document_staff_fixtures import VALID_ULN, issued, make_learner, row, staff_client
from tests.support.imports import confirm, csv_bytes, outcomes, upload
from tests.support.pages import html, notices
from tests.support.smtp import Mailbox, link_in

COLUMNS = list(row())


def file_error(response: Any) -> str:
    node = html(response).css_first("#file-error")
    assert node is not None, response.text[:500]
    return node.text(strip=True).removeprefix("Error:").strip()


def nothing_written() -> None:
    assert run(Document.count()) == 0
    assert run(OutboxEmail.count()) == 0
    assert run(Account.count()) == 1  # the staff member


def test_dry_run_shows_each_outcome_and_dates_in_words(client: Any) -> None:
    staff_client(client)
    lena = run(make_learner("lena", email_address="lena@example.com"))
    same = run(issued(lena, "SAME-1", "Level 3 Diploma in Plumbing"))
    identical_row = row(
        certificate_number="SAME-1",
        first_name="Lena",
        last_name="Tester",
        enrolment_number="",
        uln="",
        qualification_code="",
        level="",
        grade="",
        awarded_on="2025-06-01",
    )
    # The existing document's own content makes the row identical; change the grade and it conflicts.
    assert same.content_sha256
    rows = [
        row(certificate_number="NEW-1", awarded_on="03/04/2026"),
        identical_row,
        {**identical_row, "certificate_number": "SAME-1", "grade": "Distinction"},
        row(certificate_number="BAD-1", awarded_on="03/04/26", kind="diploma"),
        row(certificate_number="DUP-1"),
        row(certificate_number="dup-1", learner_email="other@example.com"),
    ]
    response = upload(client, csv_bytes(rows))
    assert response.status_code == 200
    # Errors and conflicts first, each group in file order.
    assert outcomes(response) == [
        ("SAME-1", "Error"),
        ("BAD-1", "Error"),
        ("dup-1", "Error"),
        ("NEW-1", "New"),
        ("SAME-1", "Identical: will be skipped"),
        ("DUP-1", "New"),
    ]
    table = html(response).css("#import-result tbody tr")
    assert [tr.css_first("td").text(strip=True) for tr in table] == ["4", "5", "7", "2", "3", "6"]
    assert table[3].css("td")[3].text(strip=True) == "3 April 2026"  # a swapped day and month would show
    bad_errors = [li.text(strip=True) for li in table[1].css(".row-errors li")]
    # Messages lead with words, never with a column's name.
    assert bad_errors == [
        "Kind must be certificate, qualification record or accreditation",
        "Awarded on must be a real date as dd/mm/yyyy or yyyy-mm-dd",
    ]
    assert "also on line 6" in table[2].text()  # the first of the two, header = line 1
    assert html(response).css_first('form[action$="/confirm"]') is None  # errors: nothing can be confirmed
    assert run(Document.count()) == 1 and run(OutboxEmail.count()) == 0


def test_a_conflicting_certificate_number_says_use_supersede(client: Any) -> None:
    staff_client(client)
    run(issued(run(make_learner("lena", email_address="lena@example.com")), "C-1001", "Something else"))
    response = upload(client, csv_bytes([row()]))
    assert outcomes(response) == [
        ("C-1001", "Conflict: this certificate number exists with other content (use Supersede)")
    ]


def test_confirm_writes_every_row_with_units_and_emails_each_learner_once(
    client: Any, mailbox: Mailbox
) -> None:
    staff = staff_client(client)
    run(make_learner("lena", email_address="lena@example.com"))
    rows = [
        row(certificate_number="A-1"),
        row(certificate_number="A-2", qualification_title="Second award", awarded_on="2026-01-31"),
        row(
            certificate_number="B-1",
            learner_email="new.person@example.com",
            first_name="New",
            last_name="Person",
            enrolment_number="ENR-1",
            uln="",
        ),
    ]
    units = "certificate_number,unit_code,unit_title,level,credits,grade\r\nA-1,U1,Safe isolation,3,10,Pass\r\nA-1,U2,Joints,3,5,Merit\r\n"
    checked = upload(client, csv_bytes(rows, bom=True), units.encode())
    assert [o for _, o in outcomes(checked)] == ["New", "New", "New"]
    done = confirm(client, checked)
    assert done.status_code == 303
    page = client.get(done.headers["location"])
    assert "Imported 3 documents" in " ".join(notices(page))
    docs = {d.certificate_number: d for d in run(Document.objects())}
    assert set(docs) == {"A-1", "A-2", "B-1"}
    assert {d.issued_by for d in docs.values()} == {staff.id}
    assert len({d.import_batch for d in docs.values()}) == 1
    from src.documents import content_of

    assert [u["title"] for u in content_of(docs["A-1"])["units"]] == ["Safe isolation", "Joints"]
    staff_page = html(client.get(f"/staff/documents/{docs['A-1'].id}"))
    assert "Safe isolation" in staff_page.css_first(".document-units").text()
    assert "Issued by import" in staff_page.css_first("ol.rows li").text()
    assert docs["A-1"].created_at.tzinfo is not None
    newcomer = run(Account.objects().where(Account.email == "new.person@example.com").first())
    assert (newcomer.role, newcomer.password_hash, newcomer.enrolment_number) == ("learner", None, "ENR-1")
    lena = run(Account.objects().where(Account.email == "lena@example.com").first())
    assert (lena.enrolment_number, lena.uln) == ("ENR-77", VALID_ULN)  # filled in where empty
    two = mailbox.wait_for(to="lena@example.com", subject="2 new documents")
    assert "Second award" in two.get_body(preferencelist=("plain",)).get_content()
    mailbox.wait_for(to="new.person@example.com", subject="new document")
    assert link_in(mailbox.wait_for(to="new.person@example.com", subject="activate"), "/activate/")
    assert run(OutboxEmail.count()) == 3

    # Confirming again, and uploading the same file again, change nothing; the second is flagged.
    again = confirm(client, checked)
    assert "already been confirmed" in " ".join(notices(client.get(again.headers["location"])))
    repeat = upload(client, csv_bytes(rows, bom=True), units.encode())
    assert "already imported on" in html(repeat).css_first(".notice-warning").text()
    assert [o for _, o in outcomes(repeat)] == ["Identical: will be skipped"] * 3
    assert html(repeat).css_first('form[action$="/confirm"]') is None
    assert run(Document.count()) == 3 and run(OutboxEmail.count()) == 3


def test_a_confirm_that_meets_a_new_conflict_writes_nothing(client: Any) -> None:
    staff_client(client)
    checked = upload(
        client,
        csv_bytes(
            [row(certificate_number="X-1"), row(certificate_number="X-2", learner_email="zed@example.com")]
        ),
    )
    # Between the dry run and the confirm someone issues X-2 with other content.
    run(issued(run(make_learner("other")), "X-2", "Different"))
    refused = confirm(client, checked)
    assert refused.status_code == 422
    assert "writes every row or none" in html(refused).text() or "cannot be imported" in " ".join(
        notices(refused)
    )
    assert run(Document.count()) == 1
    assert run(Account.count().where(Account.email == "zed@example.com")) == 0
    assert run(OutboxEmail.count()) == 0
    assert run(ImportBatch.select(ImportBatch.state).first())["state"] == "checked"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"certificate_number,learner_email\r\nC-1,a@example.com\r\n", "has no column"),
        (csv_bytes([row()], columns=[*COLUMNS, "surprise"]), "unknown or repeated columns"),
        ("Zertifikat für Jürgen".encode("latin-1") + b"\xff\xfe", "not UTF-8"),
        (b"", "Choose a CSV file"),
        (b"\x00\x01\x02" * 10, "not a CSV file"),
    ],
)
def test_unreadable_files_are_refused_whole(client: Any, data: bytes, words: str) -> None:
    staff_client(client)
    response = upload(client, data)
    assert response.status_code == 422
    assert words in file_error(response)
    nothing_written()


def test_5001_rows_are_refused_and_5000_are_checked(client: Any) -> None:
    staff_client(client)
    many = [row(certificate_number=f"N-{n}", learner_email=f"p{n}@example.com") for n in range(5001)]
    refused = upload(client, csv_bytes(many))
    assert refused.status_code == 422 and "more than 5,000 rows" in file_error(refused)
    nothing_written()
    accepted = upload(client, csv_bytes(many[:5000]))
    assert accepted.status_code == 200
    assert html(accepted).css_first(".counts li strong").text() == "5000"


def test_a_huge_upload_is_refused_before_it_is_read(client: Any) -> None:
    staff_client(client)
    response = upload(client, b"a" * (5 * 1024 * 1024))
    assert response.status_code == 413
    nothing_written()
    big_but_allowed_body = upload(client, b"certificate_number\r\n" + b"x" * (2 * 1024 * 1024))
    assert big_but_allowed_body.status_code == 422 and "larger than 2 MB" in file_error(big_but_allowed_body)


def test_the_errors_file_escapes_formulas_and_keeps_the_rows(client: Any) -> None:
    staff_client(client)
    rows = [
        row(certificate_number="F-1", first_name='=HYPERLINK("http://x")', awarded_on="1/1/26"),
        row(certificate_number="F-2", last_name="+SUM(A1)", grade="@cmd", kind="unknown"),
        row(certificate_number="OK-1"),
    ]
    checked = upload(client, csv_bytes(rows))
    link = html(checked).css_first('a[href$="/errors.csv"]').attributes["href"]
    response = client.get(link)
    assert response.status_code == 200
    # One charset, not two ("text/csv; charset=utf-8; charset=utf-8" was sent).
    assert response.headers.get_list("content-type") == ["text/csv; charset=utf-8"]
    parsed = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["certificate_number"] for r in parsed] == ["F-1", "F-2"]
    assert parsed[0]["first_name"] == '\'=HYPERLINK("http://x")'
    assert parsed[1]["last_name"] == "'+SUM(A1)" and parsed[1]["grade"] == "'@cmd"
    assert "Awarded on must be a real date" in parsed[0]["errors"]
    assert all(not cell.startswith(("=", "+", "-", "@")) for r in parsed for cell in r.values())


def test_html_in_cells_is_shown_as_text_on_the_dry_run(client: Any) -> None:
    staff_client(client)
    name = '<img src=x onerror=alert(1) hx-get="/logout">'
    checked = upload(client, csv_bytes([row(first_name=name)]))
    assert not html(checked).css("main img") and not html(checked).css("#import-result [hx-get]")
    assert name in html(checked).css_first("#import-result tbody").text()


def test_htmx_upload_answers_with_the_result_fragment(client: Any) -> None:
    staff_client(client)
    response = upload(client, csv_bytes([row()]), htmx=True)
    assert response.status_code == 200
    assert (
        html(response).css_first("section#import-result") is not None
        and html(response).css_first("main") is None
    )
    refused = upload(client, b"nonsense\r\n", htmx=True)
    assert refused.status_code == 422 and html(refused).css_first("form#import-form") is not None


def test_the_templates_download_with_the_fixed_headers(client: Any) -> None:
    staff_client(client)
    documents_template = client.get("/staff/imports/template.csv")
    assert next(csv.reader(io.StringIO(documents_template.text))) == COLUMNS
    assert "attachment" in documents_template.headers["content-disposition"]
    assert documents_template.headers.get_list("content-type") == ["text/csv; charset=utf-8"]
    units_template = client.get("/staff/imports/template.csv?units=true")
    assert next(csv.reader(io.StringIO(units_template.text))) == [
        "certificate_number",
        "unit_code",
        "unit_title",
        "level",
        "credits",
        "grade",
    ]
