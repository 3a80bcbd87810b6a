"""The verifier API against the OpenAPI document it serves: schemathesis draws requests from that
document (valid ones for every operation, and invalid bodies for the batch), the test client sends
them, and a 5xx, a status or content type the document does not list, or a body or header that does
not match it fails the test. Bounded and repeatable: a fixed number of examples, derandomized."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode, checks

from tests.support.environment import BASE_URL

# The checks that judge one response. The others send requests of their own through schemathesis'
# transport (to a server that is not there: the app runs under the test client), and
# positive_data_acceptance would expect a 2xx for any well-typed code, though most codes match nothing.
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
]
EXAMPLES = 40
RUNS = [
    ("GET", "/api/v1/verify/{code}", GenerationMode.POSITIVE),
    ("POST", "/api/v1/verify", GenerationMode.POSITIVE),
    # Any string is a code to check, so only the batch's body can be drawn invalid.
    ("POST", "/api/v1/verify", GenerationMode.NEGATIVE),
    ("GET", "/api/v1/verify/{code}/receipt", GenerationMode.POSITIVE),
    ("POST", "/api/v1/verify/receipts", GenerationMode.POSITIVE),
    ("POST", "/api/v1/verify/receipts", GenerationMode.NEGATIVE),
    ("GET", "/.well-known/jwks.json", GenerationMode.POSITIVE),
]
TAKES_NO_INPUT = {"/.well-known/jwks.json"}


def as_httpx(kwargs: dict[str, Any]) -> dict[str, Any]:
    """schemathesis' keyword arguments for `requests`, as httpx (the test client) takes them."""
    kwargs = dict(kwargs)
    if kwargs.get("data") is not None and isinstance(kwargs["data"], bytes | str):
        kwargs["content"] = kwargs.pop("data")  # raw bytes as `data` is deprecated in httpx
    if not kwargs.get("cookies"):
        kwargs.pop("cookies", None)  # per-request cookies are deprecated in httpx too; none are sent
    return kwargs


@pytest.mark.parametrize(("method", "path", "mode"), RUNS, ids=lambda value: str(value))
def test_every_answer_matches_the_served_schema(client, method, path, mode):
    schema = schemathesis.openapi.from_dict(client.get("/api/v1/openapi.json").json())
    operation = schema[path][method]
    sent = []

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def answers_as_documented(case: schemathesis.Case) -> None:
        response = client.request(**as_httpx(case.as_transport_kwargs(base_url=BASE_URL)))
        sent.append(response.status_code)
        case.validate_response(response, checks=CHECKS)

    answers_as_documented()
    # The strategy really drew requests (the keys take no input: there, one request is all of them).
    assert len(sent) >= (1 if path in TAKES_NO_INPUT else EXAMPLES // 2)
