"""The learner's enrolment number (and ULN, when there is one) is frozen into a document when it is
issued, by the form or by a CSV import, is covered by the snapshot's SHA-256, and is shown on the
document to the learner and to a third party it is shared with."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

from src.documents import content_of, snapshot
from src.tables.accounts import Account
from src.tables.documents import Document
from tests.support.client import log_in, post_form, run
from tests.support.connection_fixtures import build_connection, prepare_people
from tests.support.document_staff_fixtures import VALID_ULN, row
from tests.support.imports import confirm, csv_bytes, outcomes, upload
from tests.support.pages import html, notices


def facts(page: Any) -> dict[str, str]:
    """The document's definition list, as the reader sees it."""
    article = html(page).css_first("article.document")
    assert article is not None, page.text[:300]
    return {
        dt.text(strip=True): dd.text(strip=True)
        for dt, dd in zip(article.css("dt"), article.css("dd"), strict=True)
    }


def digest_of(document: Document) -> str:
    canonical = json.dumps(content_of(document), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def document(number: str) -> Document:
    found = run(Document.objects().where(Document.certificate_number == number).first())
    assert found is not None
    return found


def shown_to_learner_and_third_party(
    client: Any, other_client: Any, people: Any, doc: Document
) -> list[dict]:
    connection = run(build_connection("active", people.learner, people.third_party, [doc]))
    log_in(client, "lena")
    log_in(other_client, "tara")
    return [
        facts(client.get(f"/documents/{doc.id}")),
        facts(other_client.get(f"/connections/{connection.id}/documents/{doc.id}")),
    ]


def test_the_hash_covers_the_enrolment_number_and_uln() -> None:
    from datetime import date

    base = {"certificate_number": "C-1", "title": "Award", "awarded_on": date(2025, 1, 2)}
    plain = snapshot(base)[1]
    assert snapshot({**base, "enrolment_number": "ENR-1"})[1] != plain
    assert snapshot({**base, "uln": VALID_ULN})[1] != plain
    content, digest = snapshot({**base, "enrolment_number": "ENR-1", "uln": VALID_ULN})
    assert (content["enrolment_number"], content["uln"]) == ("ENR-1", VALID_ULN)
    assert snapshot({**base, "enrolment_number": "ENR-1", "uln": VALID_ULN})[1] == digest


def test_issued_by_form_the_number_is_frozen_and_shown(client: Any, other_client: Any) -> None:
    people = run(prepare_people())
    log_in(client, "sam")
    response = post_form(
        client,
        "/staff/documents/new",
        row(learner_email=people.learner.email, enrolment_number="ENR-5", uln=VALID_ULN),
        token_from="/staff/documents/new",
    )
    assert response.status_code == 303, response.text[:500]
    doc = document("C-1001")
    content = content_of(doc)
    assert (content["enrolment_number"], content["uln"]) == ("ENR-5", VALID_ULN)
    assert doc.content_sha256 == digest_of(doc)
    assert "Enrolment number" in facts(client.get(f"/staff/documents/{doc.id}"))

    # Left blank on the form, the number is the learner's own (now ENR-5); no ULN is left out.
    post_form(
        client,
        "/staff/documents/new",
        row(learner_email=people.learner.email, certificate_number="C-1002", enrolment_number="", uln=""),
        token_from="/staff/documents/new",
    )
    assert content_of(document("C-1002"))["enrolment_number"] == "ENR-5"

    for seen in shown_to_learner_and_third_party(client, other_client, people, doc):
        assert seen["Enrolment number"] == "ENR-5"
        assert seen["Unique Learner Number (ULN)"] == VALID_ULN


def test_a_document_without_references_shows_none(client: Any, other_client: Any) -> None:
    people = run(prepare_people())
    from tests.support.connection_fixtures import make_document

    doc = run(make_document(people.learner, 1))
    assert content_of(doc)["enrolment_number"] == "" and doc.content_sha256 == digest_of(doc)
    for seen in shown_to_learner_and_third_party(client, other_client, people, doc):
        assert "Enrolment number" not in seen and "Unique Learner Number (ULN)" not in seen


def test_issued_by_csv_each_document_has_its_learners_number(client: Any, other_client: Any) -> None:
    people = run(prepare_people())
    run(Account.update({Account.enrolment_number: "ENR-LENA"}).where(Account.id == people.learner.id))
    log_in(client, "sam")
    rows = [
        # Lena's number is on her account; the row leaves it blank.
        row(certificate_number="L-1", learner_email=people.learner.email, enrolment_number="", uln=""),
        # A newcomer: the number is given on one of their rows only.
        row(certificate_number="N-1", learner_email="nia@example.com", enrolment_number="ENR-NIA", uln=""),
        row(
            certificate_number="N-2",
            learner_email="nia@example.com",
            enrolment_number="",
            uln=VALID_ULN,
            qualification_title="Second award",
        ),
    ]
    checked = upload(client, csv_bytes(rows))
    assert [o for _, o in outcomes(checked)] == ["New", "New", "New"]
    done = confirm(client, checked)
    assert done.status_code == 303
    expected = {"L-1": ("ENR-LENA", ""), "N-1": ("ENR-NIA", VALID_ULN), "N-2": ("ENR-NIA", VALID_ULN)}
    for number, (enrolment, uln) in expected.items():
        doc = document(number)
        content = content_of(doc)
        assert (content["enrolment_number"], content["uln"]) == (enrolment, uln), number
        assert doc.content_sha256 == digest_of(doc)
    nia = run(Account.objects().where(Account.email == "nia@example.com").first())
    assert (nia.enrolment_number, nia.uln) == ("ENR-NIA", VALID_ULN)

    # Re-confirming changes nothing; the same file again is identical row by row.
    again = confirm(client, checked)
    assert "already been confirmed" in " ".join(notices(client.get(again.headers["location"])))
    repeat = upload(client, csv_bytes(rows))
    assert [o for _, o in outcomes(repeat)] == ["Identical: will be skipped"] * 3
    assert run(Document.count()) == 3

    for seen in shown_to_learner_and_third_party(client, other_client, people, document("L-1")):
        assert seen["Enrolment number"] == "ENR-LENA"
        assert "Unique Learner Number (ULN)" not in seen


def test_rows_of_one_learner_that_disagree_are_errors(client: Any) -> None:
    run(prepare_people())
    log_in(client, "sam")
    rows = [
        row(certificate_number="N-1", learner_email="nia@example.com", enrolment_number="ENR-1", uln=""),
        row(certificate_number="N-2", learner_email="nia@example.com", enrolment_number="ENR-2", uln=""),
    ]
    checked = upload(client, csv_bytes(rows))
    assert outcomes(checked) == [("N-2", "Error"), ("N-1", "New")]  # errors first
    errors = [
        li.text(strip=True) for li in html(checked).css("#import-result tbody tr")[0].css(".row-errors li")
    ]
    assert any("enrolment number is ENR-1 on line 2" in e for e in errors)
    assert html(checked).css_first('form[action$="/confirm"]') is None


def test_two_racing_confirms_of_one_batch_write_it_once(client: Any) -> None:
    """Both get past the first look before either writes: one imports, the other is the repeat."""
    import asyncio

    from src import documents
    from src.tables.documents import ImportBatch
    from src.tables.outbox import OutboxEmail
    from src.tokens import Tokens

    people = run(prepare_people())
    log_in(client, "sam")
    rows = [row(certificate_number=f"R-{n}", learner_email=f"r{n}@example.com", uln="") for n in range(3)]
    upload(client, csv_bytes(rows))
    batch_id = run(ImportBatch.select(ImportBatch.id).first())["id"]

    async def both() -> list[documents.Confirmed]:
        tokens = Tokens(("t" * 32,))
        return list(
            await asyncio.gather(
                *(documents.confirm(tokens, people.staff, batch_id, today=date.today()) for _ in range(2))
            )
        )

    outcomes_seen = sorted((done.created, done.already) for done in run(both()))
    assert outcomes_seen == [(0, True), (3, False)]
    assert run(Document.count()) == 3
    assert run(OutboxEmail.count().where(OutboxEmail.template == "documents_issued")) == 3


def test_the_verify_page_and_api_never_show_the_learners_references(client: Any, other_client: Any) -> None:
    """Shown on its verify page by the learner's choice, the document is there without the enrolment
    number and ULN: anyone holding the code may open that page."""
    people = run(prepare_people())
    log_in(client, "sam")
    post_form(
        client,
        "/staff/documents/new",
        row(learner_email=people.learner.email, enrolment_number="ENR-77", uln=VALID_ULN),
        token_from="/staff/documents/new",
    )
    doc = document("C-1001")
    run(Document.update({Document.show_on_verify: True}).where(Document.id == doc.id))
    page = other_client.get(f"/v/{doc.verify_code}")
    assert page.status_code == 200
    shown = facts(page)
    assert shown["Certificate number"] == "C-1001"  # the document itself is there …
    assert "Enrolment number" not in shown and "Unique Learner Number (ULN)" not in shown  # … without them
    assert "ENR-77" not in page.text and VALID_ULN not in page.text
    api = other_client.get(f"/api/v1/verify/{doc.verify_code}")
    assert api.status_code == 200
    assert api.json()["content"]["certificate_number"] == "C-1001"
    assert "ENR-77" not in api.text and VALID_ULN not in api.text
