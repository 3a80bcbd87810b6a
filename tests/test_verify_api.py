"""The verifier API: the page's statuses and facts as JSON, problem details for errors, the batch
limit, and parity with the page for every status (one parametrised test)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from src.documents import new_verify_code, printed
from src.tables.connections import AccessEvent
from src.tables.documents import VerifyTally
from tests.support.client import run
from tests.support.environment import BASE_URL
from tests.support.pages import html
from tests.support.verify_fixtures import break_the_database, shelf

STATUSES = [
    "valid",
    "valid_until",
    "expired",
    "revoked",
    "superseded",
    "typing_error",
    "not_found",
    "unavailable",
]


@pytest.mark.parametrize("status", STATUSES)
def test_the_api_and_the_page_agree_on_every_status(client, day, monkeypatch, status):
    docs = run(shelf(day))
    code = {
        "typing_error": "ABCD-EFGH-JKMN-PQRS-T",
        "not_found": new_verify_code(),
        "unavailable": docs.valid.verify_code,
    }.get(status) or docs.by_status(status).verify_code
    if status == "unavailable":
        break_the_database(monkeypatch)
    page = client.get(f"/v/{code}", follow_redirects=True)
    api = client.get(f"/api/v1/verify/{code}")
    assert api.status_code == page.status_code
    body = api.json()
    page_headline = html(page).css_first("main h1").text(strip=True)
    if api.status_code == 200:
        assert api.headers["content-type"].startswith("application/json")
        assert body["status"] == status
        assert body["http_status"] == 200
        assert body["headline"] == page_headline
        assert body["facts"]["certificate_number"] == html(page).css("dl.facts dd")[5].text(strip=True)
        assert body["verify_url"] == f"{BASE_URL}/v/{code}"
    else:
        assert api.headers["content-type"].startswith("application/problem+json")
        assert body["status"] == api.status_code
        assert body["detail"] == page_headline
        assert "facts" not in body
    assert api.headers["cache-control"] == "no-store"
    assert api.headers["access-control-allow-origin"] == "*"
    assert "set-cookie" not in api.headers


def test_facts_and_dates_in_json(client, day):
    docs = run(shelf(day))
    body = client.get(f"/api/v1/verify/{printed(docs.valid_until.verify_code).lower()}").json()
    assert body["code"] == docs.valid_until.verify_code
    assert body["facts"] == {
        "name_as_printed": "Łucja Nguyễn",
        "title": "First Aid at Work",
        "kind": "certificate",
        "qualification_code": "603/1234/5",
        "level": "3",
        "awarded_on": "2026-01-05",
        "valid_until": (day + timedelta(days=30)).isoformat(),
        "certificate_number": "APC-2",
        "awarding_body": "Achievement Portal",
    }
    assert body["status_on"] == (day + timedelta(days=30)).isoformat()
    assert body["content"] is None
    revoked = client.get(f"/api/v1/verify/{docs.revoked.verify_code}").json()
    assert revoked["status_on"] == "2026-06-02" and "mislaid" not in str(revoked)


def test_content_only_when_the_learner_allows_and_never_for_a_revoked_document(client, day):
    docs = run(shelf(day, shown=True))
    assert client.get(f"/api/v1/verify/{docs.valid.verify_code}").json()["content"]["title"] == (
        "Level 3 Diploma in Data"
    )
    assert client.get(f"/api/v1/verify/{docs.revoked.verify_code}").json()["content"] is None
    superseded = client.get(f"/api/v1/verify/{docs.superseded.verify_code}").json()
    assert superseded["newer_verify_url"] == f"{BASE_URL}/v/{docs.newer.verify_code}"


def test_each_api_check_of_an_existing_code_is_counted(client, day):
    docs = run(shelf(day))
    client.get(f"/api/v1/verify/{docs.valid.verify_code}")
    client.post("/api/v1/verify", json={"codes": [docs.expired.verify_code, new_verify_code(), "nonsense"]})
    tallies = run(VerifyTally.select(VerifyTally.document, VerifyTally.day, VerifyTally.checks))
    assert sorted((t["document"], t["day"], t["checks"]) for t in tallies) == [
        (docs.valid.id, day, 1),
        (docs.expired.id, day, 1),
    ]
    assert run(AccessEvent.count()) == 0


def test_a_batch_answers_each_code_in_order(client, day):
    docs = run(shelf(day))
    codes = [docs.valid.verify_code, "ABCD", new_verify_code(), docs.revoked.verify_code]
    response = client.post("/api/v1/verify", json={"codes": codes})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    results = response.json()["results"]
    assert [(r["status"], r["http_status"]) for r in results] == [
        ("valid", 200),
        ("typing_error", 400),
        ("not_found", 404),
        ("revoked", 200),
    ]
    assert results[2]["facts"] is None and results[2]["verify_url"] is None


def test_a_batch_of_100_is_fine_and_101_is_refused(client, day):
    docs = run(shelf(day))
    ok = client.post("/api/v1/verify", json={"codes": [docs.valid.verify_code] * 100})
    assert ok.status_code == 200 and len(ok.json()["results"]) == 100
    refused = client.post("/api/v1/verify", json={"codes": [docs.valid.verify_code] * 101})
    assert refused.status_code == 400
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["detail"] == "Send between 1 and 100 codes"


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b'{"codes": "ABCD"}', b'{"codes": [1, 2]}', b'{"codes": []}', b"[]", b"\x00"],
)
def test_a_malformed_batch_is_a_400_problem_not_a_page(client, body):
    response = client.post("/api/v1/verify", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 400


def test_the_openapi_schema_describes_the_api_only_with_examples(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert sorted(schema["paths"]) == ["/api/v1/verify", "/api/v1/verify/{code}"]
    one = schema["paths"]["/api/v1/verify/{code}"]["get"]
    assert set(one["responses"]) >= {"200", "400", "404", "429", "503"}
    examples = one["responses"]["200"]["content"]["application/json"]["examples"]
    assert {e["value"]["status"] for e in examples.values()} == {"valid", "revoked"}
    assert "application/problem+json" in one["responses"]["404"]["content"]
    assert "post" in schema["paths"]["/api/v1/verify"]
