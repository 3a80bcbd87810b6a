"""The verifier API: the verify page's answers as JSON, one code or a batch of up to 100.

The same check, statuses, facts and throttle as the page (src/routes/verify.py's `check`); the
document's content only when its learner allows it. Errors are RFC 9457 problem details.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import FromPath, JSONBody, KwargDefinition

from src import documents
from src.clock import utcnow
from src.routes.api_problems import (
    API_HEADERS,
    MAX_JSON_BYTES,
    MAX_JSON_DEPTH,
    PROBLEM,
    Problem,
    json_within_limits,
    problem,
)
from src.routes.common import settings_of
from src.routes.verify import PUBLIC, RETRY_WHEN_UNAVAILABLE, check

BATCH_LIMIT = 100
# The documented codes hold their check character, so a client can try its own check on them.
EXAMPLE_CODE = "7QK2M9XD4RTB8HVC" + documents.check_character("7QK2M9XD4RTB8HVC")
UNKNOWN_EXAMPLE_CODE = "7QK2M9XD4RTB8HVD" + documents.check_character("7QK2M9XD4RTB8HVD")


@dataclass
class Facts:
    name_as_printed: str
    title: str
    kind: str
    qualification_code: str
    level: str
    awarded_on: date
    valid_until: date | None
    certificate_number: str
    awarding_body: str


@dataclass
class VerifyResult:
    """One code's answer. `status` is valid, valid_until, expired, revoked, superseded,
    typing_error, not_found, too_many or unavailable; `http_status` is what the page answers."""

    code: str
    status: str
    http_status: int
    headline: str
    checked_at: datetime | None = None
    status_on: date | None = None
    verify_url: str | None = None
    facts: Facts | None = None
    content: dict[str, Any] | None = None
    newer_verify_url: str | None = None


@dataclass
class VerifyBatch:
    # The schema says the limits; the handler enforces them in words (msgspec ignores this marker).
    codes: Annotated[list[str], KwargDefinition(min_items=1, max_items=BATCH_LIMIT)]


@dataclass
class VerifyBatchResult:
    results: list[VerifyResult]


def public_answer(request: Request[Any, Any, Any], verdict: documents.Verdict) -> VerifyResult:
    """One code's public answer: what the API returns, and what a receipt of it signs."""
    base = settings_of(request).verify_base
    return VerifyResult(
        code=verdict.code,
        status=verdict.status,
        http_status=verdict.http_status,
        headline=verdict.headline,
        checked_at=verdict.checked_at,
        status_on=verdict.status_on,
        verify_url=documents.verify_url(base, verdict.code) if verdict.found else None,
        facts=Facts(**verdict.facts) if verdict.facts else None,
        content=verdict.content,
        newer_verify_url=documents.verify_url(base, verdict.newer_code) if verdict.newer_code else None,
    )


VALID_EXAMPLE = {
    "code": EXAMPLE_CODE,
    "status": "valid",
    "http_status": 200,
    "headline": "Valid: issued by Achievement Portal on 14 March 2026",
    "checked_at": "2026-11-28T21:40:00Z",
    "status_on": None,
    "verify_url": f"https://portal.example.org/v/{EXAMPLE_CODE}",
    "facts": {
        "name_as_printed": "Lena Okafor",
        "title": "Level 3 Diploma in Data Analysis",
        "kind": "certificate",
        "qualification_code": "603/1234/5",
        "level": "3",
        "awarded_on": "2026-03-14",
        "valid_until": None,
        "certificate_number": "AP-2026-000123",
        "awarding_body": "Achievement Portal",
    },
    "content": None,
    "newer_verify_url": None,
}
REVOKED_EXAMPLE = {
    **VALID_EXAMPLE,
    "status": "revoked",
    "headline": "Revoked on 2 June 2026: issued in error",
    "status_on": "2026-06-02",
}


def problem_spec(description: str, *examples: Example) -> ResponseSpec:
    # No generated examples: Litestar's are random words (a status of 7820), new on every start.
    return ResponseSpec(
        Problem,
        description=description,
        media_type=PROBLEM,
        generate_examples=False,
        examples=list(examples) or None,
    )


NOT_FOUND_EXAMPLE = {
    "type": "about:blank",
    "title": "Not found",
    "status": 404,
    "detail": "No document has this code",
    "code": UNKNOWN_EXAMPLE_CODE,
}


class VerifyApiController(Controller):
    path = "/api/v1/verify"
    opt = PUBLIC
    tags = ["verify"]

    @get(
        "/{code:str}",
        name="api_verify_one",
        summary="Check one verify code",
        description="The live status and key facts of the document with this code (as printed or "
        "scanned: any case, dashes and spaces allowed). The document's content is included only "
        "when its learner shows it on the verify page. Failed lookups are throttled per IP.",
        responses={
            200: ResponseSpec(
                data_container=VerifyResult,
                description="A document has this code: valid, valid_until, expired, revoked or superseded",
                generate_examples=False,
                examples=[
                    Example(summary="valid", value=VALID_EXAMPLE),
                    Example(summary="revoked", value=REVOKED_EXAMPLE),
                ],
            ),
            400: problem_spec("The code has a typing error"),
            404: problem_spec(
                "No document has this code", Example(summary="not found", value=NOT_FOUND_EXAMPLE)
            ),
            429: problem_spec("Too many failed lookups from this IP"),
            503: problem_spec("The status could not be checked"),
        },
    )
    async def verify_one(
        self, request: Request[Any, Any, Any], code: FromPath[str]
    ) -> Response[VerifyResult]:
        """JSON: one code's status and facts; errors as problem details."""
        verdict = await check(request, code)
        if verdict.document_id is None:  # no document: an error, as problem details
            extra = {"Retry-After": str(verdict.retry_after)} if verdict.retry_after else {}
            if verdict.http_status == 503:
                extra = {"Retry-After": RETRY_WHEN_UNAVAILABLE}
            return problem(verdict.http_status, verdict.detail, verdict.code, **extra)
        return Response(
            content=public_answer(request, verdict),
            headers=API_HEADERS,
            background=BackgroundTask(
                documents.record_checks, [verdict.document_id], utcnow(), settings_of(request).tz
            ),
        )

    @post(
        "/",
        name="api_verify_batch",
        summary="Check up to 100 verify codes",
        description="Each code gets its own answer, as GET /api/v1/verify/{code} would give it "
        '(its status and http_status in the result). The body is `{"codes": [...]}` with 1 to '
        f"{BATCH_LIMIT} codes, sent as application/json, at most {MAX_JSON_BYTES // 1024} KB and "
        f"{MAX_JSON_DEPTH} levels deep.",
        status_code=200,
        # Content type, size and depth are checked before the body is decoded.
        before_request=json_within_limits,
        request_max_body_size=MAX_JSON_BYTES,
        responses={
            200: ResponseSpec(VerifyBatchResult, description="A result per code", generate_examples=False),
            400: problem_spec("No codes, more than 100, not JSON, or JSON nested too deeply"),
            413: problem_spec(f"The body is larger than {MAX_JSON_BYTES // 1024} KB"),
            415: problem_spec("The body is not sent as application/json"),
            429: problem_spec("Too many failed lookups from this IP"),
        },
    )
    async def verify_batch(
        self, request: Request[Any, Any, Any], data: JSONBody[VerifyBatch]
    ) -> Response[VerifyBatchResult]:
        """JSON: a result per code, in the order given."""
        if not data.codes or len(data.codes) > BATCH_LIMIT:
            return problem(400, f"Send between 1 and {BATCH_LIMIT} codes")
        verdicts = [await check(request, code) for code in data.codes]
        if all(v.status == "too_many" for v in verdicts):
            return problem(429, verdicts[0].detail, **{"Retry-After": str(verdicts[0].retry_after)})
        found = [v.document_id for v in verdicts if v.document_id]
        return Response(
            content=VerifyBatchResult(results=[public_answer(request, v) for v in verdicts]),
            headers=API_HEADERS,
            background=BackgroundTask(documents.record_checks, found, utcnow(), settings_of(request).tz)
            if found
            else None,
        )
