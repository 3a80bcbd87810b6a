"""Issue 22, item 4: "Add to LinkedIn" on a learner's own current document: a plain link to
LinkedIn's add-to-profile form carrying the certification's name, the awarding body (its LinkedIn
id from LINKEDIN_ORGANIZATION_ID, its name only when that is unset), issue and expiry year and
month, the printed verify code and the verify address, every value encoded; nothing is loaded from
LinkedIn; no link on documents that are not current, nor for anyone but the learner."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from src.documents import issue, printed
from src.settings import SettingsError, load_settings
from src.tables.accounts import Account
from tests.support.client import log_in, run
from tests.support.factories import build_connection
from tests.support.pages import html
from tests.support.verify_fixtures import revoke

TITLE = "Level 3 Diploma: Health & Social Care (50% practical) / Café"


def linkedin_link(client: Any, document_id: int) -> Any:
    response = client.get(f"/documents/{document_id}")
    assert response.status_code == 200
    return html(response).css_first("a#add-to-linkedin")


def parameters(href: str) -> dict[str, str]:
    parts = urlsplit(href)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "www.linkedin.com", "/profile/add")
    pairs = parse_qsl(parts.query, strict_parsing=True)
    assert len(pairs) == len(dict(pairs))  # each parameter once
    return dict(pairs)


def test_the_link_fills_in_linkedins_form_with_every_fact_encoded(
    client: Any, lena: Account, settings: Any, day: date
) -> None:
    awarded, until = date(2025, 3, 14), date(2028, 11, 30)
    doc = run(issue(lena, TITLE, "APC-1", awarded, valid_until=until))
    link = linkedin_link(client, doc.id)
    assert link is not None and link.text().startswith("Add to LinkedIn")
    assert set(link.attributes["rel"].split()) == {"noopener", "noreferrer"}
    href = link.attributes["href"]
    assert parameters(href) == {
        "startTask": "CERTIFICATION_NAME",
        "name": TITLE,
        "organizationName": "Achievement Portal",
        "issueYear": "2025",
        "issueMonth": "3",
        "expirationYear": "2028",
        "expirationMonth": "11",
        "certUrl": f"{settings.base_url}/v/{doc.verify_code}",
        "certId": printed(doc.verify_code),
    }
    # Encoded: the name's & and / and the address's :// never break the query apart.
    query = urlsplit(href).query
    assert "Health+%26+Social+Care" in query and "%2F+Caf%C3%A9" in query
    assert "certUrl=http%3A%2F%2F" in query and "organizationId" not in query
    # Nothing on the page comes from LinkedIn: only the link's own address names it.
    page = client.get(f"/documents/{doc.id}").text
    assert page.count("linkedin.com") == 1


def test_without_valid_until_there_is_no_expiry(client: Any, lena: Account, day: date) -> None:
    doc = run(issue(lena, "First Aid at Work", "APC-2", date(2024, 12, 1)))
    found = parameters(linkedin_link(client, doc.id).attributes["href"])
    assert (found["issueYear"], found["issueMonth"]) == ("2024", "12")
    assert "expirationYear" not in found and "expirationMonth" not in found


@pytest.mark.parametrize("settings", [{"linkedin_organization_id": "1337042"}], indirect=True)
def test_the_organisations_linkedin_id_replaces_its_name(client: Any, lena: Account, day: date) -> None:
    doc = run(issue(lena, "First Aid at Work", "APC-2", date(2024, 12, 1)))
    found = parameters(linkedin_link(client, doc.id).attributes["href"])
    assert found["organizationId"] == "1337042"
    assert "organizationName" not in found


def test_documents_that_are_not_current_have_no_link(
    client: Any, other_client: Any, lena: Account, tess: Account, day: date
) -> None:
    expired = run(issue(lena, "Food Hygiene", "APC-3", date(2024, 1, 5), valid_until=day - timedelta(days=1)))
    revoked = run(issue(lena, "Forklift Licence", "APC-4", date(2025, 2, 1)))
    run(revoke(revoked))
    for doc in (expired, revoked):
        assert linkedin_link(client, doc.id) is None
    # A third party viewing a shared current document gets no such link: it is the learner's to add.
    current = run(issue(lena, "Level 3 Diploma", "APC-1", date(2025, 2, 1)))
    connection = run(build_connection("active", lena, tess, [current]))
    log_in(other_client, "Tess")
    shared = other_client.get(f"/connections/{connection.id}/documents/{current.id}")
    assert shared.status_code == 200 and html(shared).css_first("a#add-to-linkedin") is None


@pytest.mark.engine_free
@pytest.mark.parametrize("value", ["acme", "12 34", "١٢٣", "-5"])
def test_a_linkedin_id_that_is_not_a_number_stops_the_start(value: str) -> None:
    with pytest.raises(SettingsError, match="LINKEDIN_ORGANIZATION_ID"):
        load_settings({"LINKEDIN_ORGANIZATION_ID": value})
    assert load_settings({"LINKEDIN_ORGANIZATION_ID": " 42 "}).linkedin_organization_id == "42"
