"""Signed receipts of verify checks: checked with a second, independent JOSE implementation (PyJWT)
against the served JWKS; any changed byte fails; rotated keys keep old receipts good; a receipt says
exactly what the API says (and nothing private); the batch at 100 and 101; failed lookups throttled
and checks counted as the API's are."""

from __future__ import annotations

import base64
import hashlib
import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import jwt
import pytest

from src.app import create_app
from src.documents import FAILED_LOOKUP_LIMIT, RECEIPT_TYPE, SigningKeys, new_verify_code, printed
from src.settings import new_signing_key
from src.tables.connections import AccessEvent
from src.tables.documents import Document, VerifyTally
from tests.support.client import make_settings, open_client, run
from tests.support.environment import BASE_URL
from tests.support.verify_fixtures import shelf

CLAIMS = {"iss", "iat", "jti"}


def receipt_of(client, code: str) -> str:
    response = client.get(f"/api/v1/verify/{code}/receipt")
    assert response.status_code == 200, response.text
    return response.text


def checked_by_pyjwt(client, receipt: str) -> dict:
    """The receipt's payload, as PyJWT reads it once it has checked the signature against the key the
    header names in the JWKS the app serves (and the issuer, and that iat is a time not to come)."""
    served = jwt.PyJWKSet.from_dict(client.get("/.well-known/jwks.json").json())
    header = jwt.get_unverified_header(receipt)
    assert (header["alg"], header["typ"]) == ("EdDSA", RECEIPT_TYPE)
    key = next((k for k in served.keys if k.key_id == header.get("kid")), None)
    if key is None:
        raise jwt.InvalidKeyError(f"no key {header.get('kid')!r} is published")
    return jwt.decode(
        receipt, key.key, algorithms=["EdDSA"], issuer=BASE_URL, options={"require": list(CLAIMS)}
    )


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_a_receipt_is_the_api_answer_signed_and_checks_with_pyjwt_against_the_served_keys(client, day):
    docs = run(shelf(day, shown=True))
    private = {**docs.valid.content, "enrolment_number": "ENR-99-SECRET", "uln": "9876543210"}
    run(Document.update({Document.content: private}).where(Document.id == docs.valid.id))
    client.cookies.set("portal_session", "someone-elses-session-id")

    response = client.get(f"/api/v1/verify/{printed(docs.valid.verify_code).lower()}/receipt")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/jose"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="verify-receipt-{printed(docs.valid.verify_code)}-{day.isoformat()}.jws"'
    )
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["access-control-allow-origin"] == "*"
    assert "set-cookie" not in response.headers
    payload = checked_by_pyjwt(client, response.text)
    api = client.get(f"/api/v1/verify/{docs.valid.verify_code}").json()
    assert set(payload) == set(api) | CLAIMS
    # The same answer, apart from the moment each was checked.
    assert {k: v for k, v in payload.items() if k not in CLAIMS | {"checked_at"}} == {
        k: v for k, v in api.items() if k != "checked_at"
    }
    assert payload["code"] == docs.valid.verify_code and payload["status"] == "valid"
    assert payload["iat"] == int(datetime.fromisoformat(payload["checked_at"]).timestamp())
    assert payload["content"]["title"] == "Level 3 Diploma in Data"  # the learner shows it
    assert "ENR-99-SECRET" not in response.text and "9876543210" not in json.dumps(payload)


def test_every_receipt_is_unique_and_names_the_signing_key(client, day):
    docs = run(shelf(day))
    first, second = (receipt_of(client, docs.valid.verify_code) for _ in range(2))
    assert checked_by_pyjwt(client, first)["jti"] != checked_by_pyjwt(client, second)["jti"]
    kid = jwt.get_unverified_header(first)["kid"]
    assert [key["kid"] for key in client.get("/.well-known/jwks.json").json()["keys"]] == [kid]


@pytest.mark.parametrize("part", ["header", "payload", "signature"])
def test_a_changed_byte_in_any_part_fails(client, day, part):
    docs = run(shelf(day))
    receipt = receipt_of(client, docs.valid.verify_code)
    segments = receipt.split(".")
    index = ["header", "payload", "signature"].index(part)
    middle = len(segments[index]) // 2
    segment = segments[index]
    changed = "B" if segment[middle] == "A" else "A"
    segments[index] = segment[:middle] + changed + segment[middle + 1 :]
    forged = ".".join(segments)

    with pytest.raises(jwt.PyJWTError):
        checked_by_pyjwt(client, forged)
    keys = client.app.state.signing_keys
    assert keys.read(receipt).outcome == "genuine"
    assert keys.read(forged).outcome != "genuine"


def test_a_payload_rewritten_and_re_encoded_keeps_no_signature(client, day):
    docs = run(shelf(day))
    header, payload, signature = receipt_of(client, docs.revoked.verify_code).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims.update(status="valid", headline="Valid", status_on=None)
    forged = ".".join([header, b64(json.dumps(claims).encode()), signature])

    with pytest.raises(jwt.InvalidSignatureError):
        checked_by_pyjwt(client, forged)


def test_after_rotation_old_receipts_still_check_and_new_ones_carry_the_new_kid(smtp_server, day):
    old_key, new_key = new_signing_key(), new_signing_key()
    old_kid, new_kid = (SigningKeys((key,)).signing_kid for key in (old_key, new_key))
    docs = run(shelf(day))
    with open_client(create_app(make_settings(smtp_server.port, signing_keys=old_key))) as before:
        old_receipt = receipt_of(before, docs.valid.verify_code)
    assert jwt.get_unverified_header(old_receipt)["kid"] == old_kid

    rotated = make_settings(smtp_server.port, signing_keys=f"{old_key},{new_key}")
    with open_client(create_app(rotated)) as after:
        assert [k["kid"] for k in after.get("/.well-known/jwks.json").json()["keys"]] == [old_kid, new_kid]
        assert checked_by_pyjwt(after, old_receipt)["code"] == docs.valid.verify_code
        new_receipt = receipt_of(after, docs.valid.verify_code)
        assert jwt.get_unverified_header(new_receipt)["kid"] == new_kid
        assert checked_by_pyjwt(after, new_receipt)["status"] == "valid"

    # Once the old key is dropped, its receipts name a key that is no longer published.
    with open_client(create_app(make_settings(smtp_server.port, signing_keys=new_key))) as dropped:
        assert old_kid not in {k["kid"] for k in dropped.get("/.well-known/jwks.json").json()["keys"]}
        assert dropped.app.state.signing_keys.read(old_receipt).outcome == "unknown_key"


def test_a_revoked_document_s_receipt_says_revoked_in_public_words_only(client, day):
    docs = run(shelf(day, shown=True))
    payload = checked_by_pyjwt(client, receipt_of(client, docs.revoked.verify_code))
    assert payload["status"] == "revoked"
    assert payload["headline"].startswith("Revoked on 2 June 2026")
    assert payload["status_on"] == "2026-06-02"
    assert payload["content"] is None  # never the document of a revoked record
    assert "mislaid" not in json.dumps(payload)  # the staff-only note


def test_the_keys_are_published_public_parts_only_cacheable_and_open_to_any_origin(client):
    client.cookies.set("portal_session", "someone-elses-session-id")
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/jwk-set+json"
    assert response.headers["cache-control"] == "public, max-age=3600"
    assert response.headers["access-control-allow-origin"] == "*"
    assert "set-cookie" not in response.headers
    (key,) = response.json()["keys"]
    assert set(key) == {"kty", "crv", "x", "kid", "alg", "use"}  # no "d": nothing private
    assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")
    # The kid is the key's RFC 7638 thumbprint, worked out here from its required members.
    members = json.dumps({"crv": key["crv"], "kty": key["kty"], "x": key["x"]}, separators=(",", ":"))
    assert key["kid"] == b64(hashlib.sha256(members.encode()).digest())


@pytest.mark.parametrize(
    ("code", "status"), [("ABCD-EFGH-JKMN-PQRS-T", 400), ("unknown", 404), ("x" * 200, 400)]
)
def test_codes_that_name_no_document_get_a_problem_not_a_receipt(client, code, status):
    code = new_verify_code() if code == "unknown" else code
    response = client.get(f"/api/v1/verify/{code}/receipt")
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == status
    assert "content-disposition" not in response.headers


def test_failed_receipt_lookups_count_against_the_same_limit_as_pages_and_the_api(client, day):
    docs = run(shelf(day))
    for n in range(FAILED_LOOKUP_LIMIT):
        path = f"/api/v1/verify/{new_verify_code()}/receipt" if n % 2 else f"/v/{new_verify_code()}"
        assert client.get(path).status_code == 404
    blocked = client.get(f"/api/v1/verify/{docs.valid.verify_code}/receipt")
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert client.get(f"/api/v1/verify/{docs.valid.verify_code}").status_code == 429
    batch = client.post("/api/v1/verify/receipts", json={"codes": [docs.valid.verify_code]})
    assert batch.status_code == 429 and batch.headers["content-type"].startswith("application/problem+json")


def test_a_parallel_burst_of_failed_receipt_lookups_gets_exactly_the_limit(client, day):
    paths = [f"/api/v1/verify/{new_verify_code()}/receipt" for _ in range(FAILED_LOOKUP_LIMIT + 10)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = Counter(response.status_code for response in pool.map(client.get, paths))
    assert statuses == {404: FAILED_LOOKUP_LIMIT, 429: 10}


def test_a_batch_answers_each_code_in_order_with_a_receipt_only_for_documents(client, day):
    docs = run(shelf(day))
    codes = [docs.valid.verify_code, "ABCD", new_verify_code(), printed(docs.revoked.verify_code)]
    response = client.post("/api/v1/verify/receipts", json={"codes": codes})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store" and "set-cookie" not in response.headers
    items = response.json()["receipts"]
    assert [(i["status"], i["http_status"], i["receipt"] is None) for i in items] == [
        ("valid", 200, False),
        ("typing_error", 400, True),
        ("not_found", 404, True),
        ("revoked", 200, False),
    ]
    assert items[2]["detail"] == "No document has this code"
    assert checked_by_pyjwt(client, items[3]["receipt"])["status"] == "revoked"


def test_a_batch_of_100_gets_100_receipts_and_101_is_refused(client, day):
    docs = run(shelf(day))
    ok = client.post("/api/v1/verify/receipts", json={"codes": [docs.valid.verify_code] * 100})
    assert ok.status_code == 200
    receipts = [item["receipt"] for item in ok.json()["receipts"]]
    assert len(receipts) == 100
    payloads = [checked_by_pyjwt(client, receipt) for receipt in receipts]
    assert {p["code"] for p in payloads} == {docs.valid.verify_code}
    assert len({p["jti"] for p in payloads}) == 100

    refused = client.post("/api/v1/verify/receipts", json={"codes": [docs.valid.verify_code] * 101})
    assert refused.status_code == 400
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["detail"] == "Send between 1 and 100 codes"


def test_receipts_count_as_checks_with_nothing_about_who_checked(client, day):
    docs = run(shelf(day))
    client.get(f"/api/v1/verify/{docs.valid.verify_code}/receipt")
    client.post(
        "/api/v1/verify/receipts",
        json={"codes": [docs.valid.verify_code, docs.expired.verify_code, new_verify_code()]},
    )
    tallies = run(VerifyTally.select(VerifyTally.document, VerifyTally.day, VerifyTally.checks))
    assert sorted((t["document"], t["day"], t["checks"]) for t in tallies) == sorted(
        [(docs.valid.id, day, 2), (docs.expired.id, day, 1)]
    )
    assert run(AccessEvent.count()) == 0


def test_the_issuer_is_the_verify_address(smtp_server, day):
    docs = run(shelf(day))
    settings = make_settings(smtp_server.port, verify_base_url="https://check.example.test")
    with open_client(create_app(settings)) as client:
        receipt = receipt_of(client, docs.valid.verify_code)
        claims = client.app.state.signing_keys.read(receipt).claims
    assert claims["iss"] == "https://check.example.test"
    assert claims["verify_url"] == f"https://check.example.test/v/{docs.valid.verify_code}"


def test_the_schema_documents_the_receipts_and_the_keys_with_their_media_types(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    one = paths["/api/v1/verify/{code}/receipt"]["get"]["responses"]
    assert set(one) >= {"200", "400", "404", "429", "503"}
    assert list(one["200"]["content"]) == ["application/jose"]
    assert "application/problem+json" in one["404"]["content"]
    batch = paths["/api/v1/verify/receipts"]["post"]["responses"]
    assert set(batch) >= {"200", "400", "413", "415", "429"}
    keys = paths["/.well-known/jwks.json"]["get"]["responses"]["200"]["content"]
    assert list(keys) == ["application/jwk-set+json"]
