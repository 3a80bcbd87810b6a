"""Staff issue one document by the form; the same row rules as the CSV; who may see staff pages."""

from __future__ import annotations

from typing import Any

import pytest

from src.tables.accounts import Account
from src.tables.documents import Document
from src.tables.outbox import OutboxEmail
from tests.support.client import log_in, post_form, run
from tests.support.document_staff_fixtures import VALID_ULN, issued, make_learner, row, staff_client
from tests.support.factories import make_account
from tests.support.pages import errors_on, html
from tests.support.smtp import Mailbox, link_in

FORM = "/staff/documents/new"


def test_issue_to_a_new_learner_makes_the_account_and_emails_once_each(client: Any, mailbox: Mailbox) -> None:
    staff_client(client)
    response = post_form(
        client,
        FORM,
        {**row(), "units": 'U1,Safe isolation,3,10,Pass\nU2,"Pipes, joints",3,5,Merit'},
        token_from=FORM,
    )
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert html(page).css_first("h1").text(strip=True) == "Certificate C-1001"
    units = [n.text(strip=True) for n in html(page).css(".document-units tbody th")]
    assert units == ["Safe isolationU1", "Pipes, jointsU2"]
    learner = run(Account.objects().where(Account.email == "lena@example.com").first())
    assert (learner.role, learner.password_hash, learner.enrolment_number, learner.uln) == (
        "learner",
        None,
        "ENR-77",
        VALID_ULN,
    )
    activation = mailbox.wait_for(to="lena@example.com", subject="activate")
    assert link_in(activation, "/activate/")
    issued_mail = mailbox.wait_for(to="lena@example.com", subject="new document")
    assert "Level 3 Diploma in Plumbing" in issued_mail.get_body(preferencelist=("plain",)).get_content()
    assert run(OutboxEmail.count()) == 2


def test_issue_to_an_existing_learner_uses_their_account(client: Any, mailbox: Mailbox) -> None:
    staff_client(client)
    learner = run(make_learner("lena", email_address="lena@example.com"))
    response = post_form(client, FORM, row(learner_email="LENA@example.com"), token_from=FORM)
    assert response.status_code == 303
    document = run(Document.objects().first())
    assert document.owner == learner.id
    assert run(Account.count()) == 2
    mailbox.wait_for(to="lena@example.com", subject="new document")
    assert run(OutboxEmail.count()) == 1


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"certificate_number": ""}, "certificate_number", "Enter the certificate number"),
        ({"qualification_title": "x" * 201}, "qualification_title", "200 characters or fewer"),
        ({"awarded_on": "14/03/26"}, "awarded_on", "dd/mm/yyyy or yyyy-mm-dd"),
        ({"awarded_on": "31/02/2026"}, "awarded_on", "real date"),
        ({"awarded_on": "2026-3-14"}, "awarded_on", "dd/mm/yyyy or yyyy-mm-dd"),
        ({"valid_until": "01/01/2020"}, "valid_until", "after the award date"),
        ({"uln": "1234567890"}, "uln", "check digit"),
        ({"uln": "12345"}, "uln", "10 digits"),
        ({"kind": "diploma"}, "kind", "certificate, qualification record or accreditation"),
        ({"learner_email": "not-an-email"}, "learner_email", "correct format"),
        ({"first_name": "   "}, "first_name", "Enter the first name"),
        ({"certificate_number": "=1+2"}, "certificate_number", "letters, digits"),
    ],
)
def test_bad_fields_are_refused_beside_the_field_and_nothing_is_saved(
    client: Any, changes: dict[str, str], field: str, words: str
) -> None:
    staff_client(client)
    sent = row(**changes)
    response = post_form(client, FORM, sent, token_from=FORM)
    assert response.status_code == 422
    assert words in errors_on(response)[field]
    kept = html(response).css_first(f"#{field}")
    if kept.tag == "input" and field != "first_name":
        assert kept.attributes["value"] == sent[field]
    assert run(Document.count()) == 0
    assert run(Account.count()) == 1  # only the staff member
    assert run(OutboxEmail.count()) == 0


def test_a_bad_units_line_is_refused_and_nothing_is_issued(client: Any) -> None:
    staff_client(client)
    response = post_form(client, FORM, {**row(), "units": "U1,,3,10,Pass"}, token_from=FORM)
    assert response.status_code == 422
    assert "Unit line 1" in errors_on(response)["units"]
    assert run(Document.count()) == 0


def test_a_certificate_number_in_use_is_refused(client: Any) -> None:
    staff_client(client)
    learner = run(make_learner("lena", email_address="lena@example.com"))
    run(issued(learner, "C-1001"))
    response = post_form(client, FORM, row(), token_from=FORM)
    assert response.status_code == 422
    assert "supersede it instead" in errors_on(response)["certificate_number"]
    assert run(Document.count()) == 1


def test_an_email_of_a_third_party_is_refused(client: Any) -> None:
    staff_client(client)
    run(make_account("third_party", "tess", email_address="tess@example.com"))
    response = post_form(client, FORM, row(learner_email="tess@example.com"), token_from=FORM)
    assert response.status_code == 422
    assert "not a learner" in errors_on(response)["learner_email"]
    assert run(Document.count()) == 0


def test_html_and_htmx_attributes_are_shown_as_text(client: Any) -> None:
    staff_client(client)
    title = '<b hx-get="/logout" hx-trigger="load">Bold</b>'
    response = post_form(
        client, FORM, row(qualification_title=title, grade="<script>x</script>"), token_from=FORM
    )
    assert response.status_code == 303
    page = html(client.get(response.headers["location"]))
    assert page.css_first("#document-title").text() == title
    assert not page.css("main [hx-trigger]") and not page.css("main script")
    listing = html(client.get("/staff/documents"))
    assert title in listing.css_first("#document-results tbody").text()


def test_the_htmx_form_answers_with_the_form_alone(client: Any) -> None:
    staff_client(client)
    response = post_form(client, FORM, row(awarded_on=""), htmx=True, token_from=FORM)
    assert response.status_code == 422
    assert html(response).css_first("form#document-form") is not None
    assert html(response).css_first("main") is None


def test_search_by_learner_enrolment_certificate_and_status(client: Any) -> None:
    staff_client(client)
    lena = run(make_learner("lena", first_name="Lena", last_name="Okafor"))
    liam = run(make_learner("liam", first_name="Liam", last_name="Walsh"))
    run(Account.update({Account.enrolment_number: "ENR-9"}).where(Account.id == liam.id))
    run(issued(lena, "AB-1", "First"))
    run(issued(liam, "CD-2", "Second"))
    run(Document.update({Document.status: "revoked"}).where(Document.certificate_number == "AB-1"))

    def found(query: str) -> list[str]:
        page = html(client.get(f"/staff/documents?{query}"))
        return [a.text(strip=True) for a in page.css("#document-results tbody a")]

    assert found("q=okafor") == ["AB-1"]
    assert found("q=liam%40example") == ["CD-2"]
    assert found("q=ENR-9") == ["CD-2"]
    assert found("q=cd-2") == ["CD-2"]
    assert found("status=revoked") == ["AB-1"]
    assert found("q=%25") == ["CD-2", "AB-1"]  # a typed % is not a wildcard nor an error
    assert found("q=nobody") == []
    assert found("q=okafor%01") == ["AB-1"]  # control characters are dropped, never a 500
    assert (
        client.get("/staff/documents?q=%00okafor").status_code == 400
    )  # a NUL byte, refused for every address
    assert found("page=99999999") == []


def test_search_pages_through_many_documents(client: Any) -> None:
    staff_client(client)
    lena = run(make_learner("lena"))
    for n in range(55):
        run(issued(lena, f"P-{n:03}"))
    first = html(client.get("/staff/documents"))
    assert len(first.css("#document-results tbody tr")) == 50
    second = html(client.get(first.css_first(".pagination a").attributes["href"]))
    assert [a.text(strip=True) for a in second.css("#document-results tbody a")] == [
        f"P-{n:03}" for n in range(4, -1, -1)
    ]


STAFF_PAGES = [
    ("get", "/staff/documents"),
    ("get", "/staff/documents/new"),
    ("post", "/staff/documents/new"),
    ("get", "/staff/documents/{id}"),
    ("get", "/staff/documents/{id}/revoke"),
    ("post", "/staff/documents/{id}/revoke"),
    ("get", "/staff/documents/{id}/supersede"),
    ("post", "/staff/documents/{id}/supersede"),
    ("get", "/staff/imports"),
    ("get", "/staff/imports/template.csv"),
    ("post", "/staff/imports"),
    ("get", "/staff/imports/1"),
    ("get", "/staff/imports/1/errors.csv"),
    ("post", "/staff/imports/1/confirm"),
]


@pytest.mark.parametrize("role", ["learner", "third_party", None])
def test_staff_pages_do_not_exist_for_anyone_else(client: Any, role: str | None) -> None:
    owner = run(make_learner("owner"))
    document = run(issued(owner))
    if role:
        run(make_account(role, "visitor"))
        log_in(client, "visitor")
    for method, path in STAFF_PAGES:
        url = path.format(id=document.id)
        if method == "get":
            response = client.get(url, follow_redirects=False)
        else:
            response = post_form(
                client, url, {"version": "0", "category": "other", "wording": "x", "confirmed": "yes"}
            )
        if role:
            assert response.status_code == 404, (url, response.status_code)
        else:
            assert response.status_code in (303, 401), (url, response.status_code)
    assert run(Document.objects().first()).status == "valid"


def test_staff_see_the_document_page_with_code_history_and_choice(client: Any) -> None:
    staff = staff_client(client)
    lena = run(make_learner("lena"))
    document = run(issued(lena, issued_by=staff))
    page = html(client.get(f"/staff/documents/{document.id}"))
    facts = {
        dt.text(strip=True): dd.text(strip=True)
        for dt, dd in zip(page.css(".summary dt"), page.css(".summary dd"), strict=True)
    }
    assert facts["Status"] == "Valid"
    assert facts["Verify code"].count("-") == 4 and len(facts["Verify code"]) == 21
    assert facts["Shown on the verify page"].startswith("No")
    # Staff see the learner's choice as it is now, not as it was when the document was issued.
    run(Document.update({Document.show_on_verify: True}).where(Document.id == document.id))
    again = html(client.get(f"/staff/documents/{document.id}"))
    shown = next(
        dd
        for dt, dd in zip(again.css(".summary dt"), again.css(".summary dd"), strict=True)
        if dt.text(strip=True) == "Shown on the verify page"
    )
    assert shown.text(strip=True) == "Yes, the learner allows it"
    history = [li.text(strip=True) for li in page.css("ol.rows li")]
    assert len(history) == 1 and "Issued" in history[0] and "Sam Tester" in history[0]
    assert client.get("/staff/documents/999999").status_code == 404
