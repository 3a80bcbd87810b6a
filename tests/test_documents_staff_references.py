"""A learner's enrolment number and ULN: set by staff (form or CSV), read-only on the profile page
with "if this is wrong, tell us"; the learner cannot change them by posting the profile form."""

from __future__ import annotations

from typing import Any

from src.tables.accounts import Account
from tests.support.client import log_in, post_form, run
from tests.support.document_staff_fixtures import VALID_ULN, make_learner, row, staff_client
from tests.support.pages import html


def test_staff_set_references_and_the_learner_sees_them_read_only(client: Any, other_client: Any) -> None:
    staff_client(client)
    run(make_learner("lena", email_address="lena@example.com"))
    response = post_form(
        client,
        "/staff/documents/new",
        row(enrolment_number="ENR-5", uln=VALID_ULN),
        token_from="/staff/documents/new",
    )
    assert response.status_code == 303
    log_in(other_client, "lena")
    page = html(other_client.get("/profile"))
    section = page.css_first("#references")
    facts = {
        dt.text(strip=True): dd.text(strip=True)
        for dt, dd in zip(section.css("dt"), section.css("dd"), strict=True)
    }
    assert facts == {"Enrolment number": "ENR-5", "Unique Learner Number (ULN)": VALID_ULN}
    assert "If this is wrong, tell us" in section.text()
    assert not section.css("input")
    # A crafted profile post cannot change them.
    token = page.css_first('#details input[name="_csrf_token"]').attributes["value"]
    values = {
        n.attributes["name"]: n.attributes.get("value") or ""
        for n in page.css("#details input")
        if n.attributes.get("name")
    }
    other_client.post(
        "/profile", data={**values, "_csrf_token": token, "enrolment_number": "HACK", "uln": "1"}
    )
    lena = run(Account.objects().where(Account.email == "lena@example.com").first())
    assert (lena.enrolment_number, lena.uln) == ("ENR-5", VALID_ULN)


def test_third_parties_have_no_references_section(client: Any) -> None:
    from tests.support.factories import make_account

    run(make_account("third_party", "tess"))
    log_in(client, "tess")
    assert html(client.get("/profile")).css_first("#references") is None
