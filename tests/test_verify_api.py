"""The verifier API: the page's statuses and facts as JSON, problem details for every error (the
router's too), the batch and body limits, the schema's limits and examples, and parity with the page
for every status (one parametrised test)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from src.documents import is_well_formed, new_verify_code, printed
from src.routes import verify_api
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
    if status == "unavailable":  # a load balancer and a client know when to come back
        assert api.headers["retry-after"] == page.headers["retry-after"] == "30"
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
    assert sorted(schema["paths"]) == [
        "/.well-known/jwks.json",
        "/api/v1/verify",
        "/api/v1/verify/receipts",
        "/api/v1/verify/{code}",
        "/api/v1/verify/{code}/receipt",
    ]
    one = schema["paths"]["/api/v1/verify/{code}"]["get"]
    assert set(one["responses"]) >= {"200", "400", "404", "429", "503"}
    examples = one["responses"]["200"]["content"]["application/json"]["examples"]
    assert {e["value"]["status"] for e in examples.values()} == {"valid", "revoked"}
    assert "application/problem+json" in one["responses"]["404"]["content"]
    assert "post" in schema["paths"]["/api/v1/verify"]


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def test_json_nested_1000_deep_is_a_400_problem_not_a_recursion(client):
    deep = b'{"codes": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    response = client.post("/api/v1/verify", content=deep, headers={"content-type": "application/json"})
    assert "nested" in assert_problem(response, 400)["detail"]
    # Brackets inside a code are text, not nesting.
    ok = client.post("/api/v1/verify", json={"codes": ["[[[[[[{{{{{{"]})
    assert ok.status_code == 200 and ok.json()["results"][0]["status"] == "typing_error"


def test_a_body_over_16_kb_is_a_413_problem(client):
    response = client.post("/api/v1/verify", json={"codes": ["A" * 17_000]})
    assert_problem(response, 413)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_body_not_sent_as_json_is_a_415_problem(client, content_type):
    headers = {"content-type": content_type} if content_type else {}
    response = client.post("/api/v1/verify", content=b'{"codes": ["ABCD"]}', headers=headers)
    assert "application/json" in assert_problem(response, 415)["detail"]


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize(("path", "allowed"), [("/api/v1/verify", "POST"), ("/api/v1/verify/ABCD", "GET")])
def test_another_method_is_a_405_problem_that_says_what_is_allowed(client, method, path, allowed):
    response = client.request(method, path)
    assert_problem(response, 405)
    assert allowed in response.headers["allow"].split(", ")
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", ["/api/v1/nothing", "/api/v1/nothing.json", "/api/v2/verify/ABCD"])
def test_an_unknown_api_address_is_a_404_problem(client, path):
    assert_problem(client.get(path), 404)


def test_pages_keep_their_html_error_pages(client):
    response = client.put("/verify")
    assert response.status_code == 405
    assert response.headers["content-type"].startswith("text/html")
    assert html(response).css_first("main h1") is not None


def test_an_unexpected_error_is_a_500_problem_with_the_logged_reference(client, monkeypatch, caplog):
    async def broken(request, typed):
        raise RuntimeError("a bug")

    monkeypatch.setattr(verify_api, "check", broken)
    with caplog.at_level(logging.ERROR, logger="portal.errors"):
        body = assert_problem(client.get(f"/api/v1/verify/{new_verify_code()}"), 500)
    assert "a bug" not in str(body)
    reference = body["detail"].rsplit("reference ", 1)[1].rstrip(").")
    assert any(reference in record.getMessage() for record in caplog.records)


def test_the_schema_documents_the_limits_and_examples_that_pass_their_own_check(client):
    schema = client.get("/api/v1/openapi.json").json()
    codes = schema["components"]["schemas"]["VerifyBatch"]["properties"]["codes"]
    assert (codes["minItems"], codes["maxItems"]) == (1, 100)
    batch = schema["paths"]["/api/v1/verify"]["post"]
    assert set(batch["responses"]) >= {"200", "400", "413", "415", "429"}
    one = schema["paths"]["/api/v1/verify/{code}"]["get"]["responses"]
    examples = [
        example["value"]
        for response in one.values()
        for content in response["content"].values()
        for example in content.get("examples", {}).values()
    ]
    assert len(examples) == 3
    for example in examples:
        assert is_well_formed(example["code"]), example["code"]
        assert example.get("verify_url", example["code"]).endswith(example["code"])
    # Litestar's generated examples (random words) are not in the document.
    assert "examples" not in str(schema["components"]["schemas"])


@pytest.mark.parametrize(
    "cross_site", [{"Origin": "https://employer.example"}, {"Sec-Fetch-Site": "cross-site"}]
)
def test_another_site_may_call_the_api_although_it_may_post_no_form(client, day, cross_site):
    """The API reads no cookie, so an employer's own page may call it from the browser: the preflight
    allows a JSON POST from any origin, and the batch answers it. A page's form from another site
    is still refused (the API's openness does not leak to the rest)."""
    docs = run(shelf(day))
    preflight = client.options(
        "/api/v1/verify/",
        headers={
            "Origin": "https://employer.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert preflight.headers["access-control-allow-headers"] == "content-type"
    assert "set-cookie" not in preflight.headers

    answer = client.post("/api/v1/verify/", json={"codes": [docs.valid.verify_code]}, headers=cross_site)
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "*"
    assert [r["status"] for r in answer.json()["results"]] == ["valid"]
    assert "set-cookie" not in answer.headers

    assert client.post("/login", data={"login": "x", "password": "y"}, headers=cross_site).status_code == 403
