"""Signed receipts of verify checks: the verifier API's answer for a code as a compact JWS (EdDSA),
one code or a batch of up to 100. The check is the API's own (src/routes/verify.py's `check`: the
same throttle on failed lookups, the same counting of checks); only codes that name a document get
a receipt, errors are problem details as in the rest of the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody
from litestar.serialization import decode_json, encode_json

from src import documents
from src.clock import utcnow
from src.routes.api_problems import API_HEADERS, MAX_JSON_BYTES, json_within_limits, problem
from src.routes.common import settings_of
from src.routes.verify import PUBLIC, check
from src.routes.verify_api import BATCH_LIMIT, VerifyBatch, problem_spec, public_answer


@dataclass
class Receipt:
    """One code's receipt, or why there is none (`receipt` null, `detail` in words)."""

    code: str
    status: str
    http_status: int
    receipt: str | None = None
    detail: str | None = None


@dataclass
class ReceiptBatchResult:
    receipts: list[Receipt]


def signed(request: Request[Any, Any, Any], verdict: documents.Verdict) -> str:
    """The receipt of a verdict on an existing document: its public answer, signed."""
    answer = decode_json(encode_json(public_answer(request, verdict)))  # exactly the API's JSON
    keys: documents.SigningKeys = request.app.state.signing_keys
    assert verdict.checked_at is not None  # every verdict on a document has its time
    return keys.sign(answer, issuer=settings_of(request).verify_base, at=verdict.checked_at)


def file_name(request: Request[Any, Any, Any], verdict: documents.Verdict) -> str:
    """`verify-receipt-ABCD-EFGH-JKMN-PQRS-T-2026-12-07.jws`: the code as printed and the day."""
    assert verdict.checked_at is not None
    day = verdict.checked_at.astimezone(settings_of(request).tz).date()
    return f"verify-receipt-{documents.printed(verdict.code)}-{day.isoformat()}.jws"


RECEIPT_DESCRIPTION = (
    "A compact JWS (RFC 7515) signed with EdDSA (Ed25519), header "
    f'`{{"alg": "EdDSA", "typ": "{documents.RECEIPT_TYPE}", "kid": ...}}`. Its payload is the JSON '
    "that GET /api/v1/verify/{code} answers for the code, plus `iss` (the verify address), `iat` "
    "(the check time, seconds since 1970) and `jti` (unique). Check it against the keys at "
    "/.well-known/jwks.json (the key whose `kid` the header names)."
)


class ReceiptApiController(Controller):
    path = "/api/v1/verify"
    opt = PUBLIC
    tags = ["receipts"]

    @get(
        "/{code:str}/receipt",
        name="api_verify_receipt",
        summary="A signed receipt of a check of one verify code",
        description=RECEIPT_DESCRIPTION + " Sent as a file to keep (Content-Disposition). Codes that "
        "name no document get no receipt; failed lookups are throttled per IP as for any check.",
        media_type=documents.RECEIPT_MEDIA_TYPE,
        responses={
            200: ResponseSpec(
                data_container=str,
                media_type=documents.RECEIPT_MEDIA_TYPE,
                description="The receipt (a compact JWS: three base64url parts joined by dots)",
                generate_examples=False,
            ),
            400: problem_spec("The code has a typing error"),
            404: problem_spec("No document has this code"),
            429: problem_spec("Too many failed lookups from this IP"),
            503: problem_spec("The status could not be checked"),
        },
    )
    async def receipt_one(self, request: Request[Any, Any, Any], code: FromPath[str]) -> Response[str]:
        """A .jws file: the signed answer for one code; errors as problem details."""
        verdict = await check(request, code)
        if verdict.document_id is None:
            extra = {"Retry-After": str(verdict.retry_after)} if verdict.retry_after else {}
            return problem(verdict.http_status, verdict.detail, verdict.code, **extra)
        disposition = f'attachment; filename="{file_name(request, verdict)}"'
        return Response(
            content=signed(request, verdict),
            media_type=documents.RECEIPT_MEDIA_TYPE,
            headers={**API_HEADERS, "Content-Disposition": disposition},
            background=BackgroundTask(
                documents.record_checks, [verdict.document_id], utcnow(), settings_of(request).tz
            ),
        )

    @post(
        "/receipts",
        name="api_verify_receipts",
        summary="Signed receipts for up to 100 verify codes",
        description=f"A receipt per code, in the order given. {RECEIPT_DESCRIPTION} The body is "
        f'`{{"codes": [...]}}` with 1 to {BATCH_LIMIT} codes, as for POST /api/v1/verify. A code that '
        "names no document gets `receipt: null` and its status and detail instead.",
        status_code=200,
        before_request=json_within_limits,
        request_max_body_size=MAX_JSON_BYTES,
        responses={
            200: ResponseSpec(
                ReceiptBatchResult, description="A receipt (or why none) per code", generate_examples=False
            ),
            400: problem_spec(f"No codes, more than {BATCH_LIMIT}, not JSON, or JSON nested too deeply"),
            413: problem_spec(f"The body is larger than {MAX_JSON_BYTES // 1024} KB"),
            415: problem_spec("The body is not sent as application/json"),
            429: problem_spec("Too many failed lookups from this IP"),
        },
    )
    async def receipt_batch(
        self, request: Request[Any, Any, Any], data: JSONBody[VerifyBatch]
    ) -> Response[ReceiptBatchResult]:
        """JSON: a receipt (or the reason there is none) per code, in the order given."""
        if not data.codes or len(data.codes) > BATCH_LIMIT:
            return problem(400, f"Send between 1 and {BATCH_LIMIT} codes")
        verdicts = [await check(request, code) for code in data.codes]
        if all(v.status == "too_many" for v in verdicts):
            return problem(429, verdicts[0].detail, **{"Retry-After": str(verdicts[0].retry_after)})
        receipts = [
            Receipt(v.code, v.status, v.http_status, receipt=signed(request, v))
            if v.document_id
            else Receipt(v.code, v.status, v.http_status, detail=v.detail)
            for v in verdicts
        ]
        found = [v.document_id for v in verdicts if v.document_id]
        return Response(
            content=ReceiptBatchResult(receipts=receipts),
            headers=API_HEADERS,
            background=BackgroundTask(documents.record_checks, found, utcnow(), settings_of(request).tz)
            if found
            else None,
        )
