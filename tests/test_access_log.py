"""The access log keeps each request's route but not the secrets and personal data in its URL: the
signed token of an email link, a document's verify code, what someone typed into a query string."""

from __future__ import annotations

import io
import logging
import logging.config
import re
from typing import Any

import pytest

from src.access_log import HIDDEN, SECRET_PATHS, log_config, redact

pytestmark = pytest.mark.engine_free  # no database: run once, on SQLite, and not emptied before

# Litestar's OpenAPI route: its parameter names a schema file (openapi.json), nothing of anyone's.
NOT_SECRET = {"/api/v1/{path:str}"}
TOKEN = "eyJhY2NvdW50IjoxMn0.Zx3kQw.8vX1s0mJbE5lQ2nA"


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        (f"/reset-password/{TOKEN}", "/reset-password/…"),
        (f"/activate/{TOKEN}", "/activate/…"),
        (f"/verify-email/{TOKEN}", "/verify-email/…"),
        (f"/email-change/stop/{TOKEN}", "/email-change/stop/…"),
        (f"/profile/email/{TOKEN}", "/profile/email/…"),
        ("/v/ABCD2EFGH3JKMN4PQRS5T", "/v/…"),
        ("/v/abcd-efgh", "/v/…"),
        ("/api/v1/verify/ABCD2EFGH3JKMN4PQRS5T", "/api/v1/verify/…"),
        ("/verify?code=ABCD-EFGH", "/verify?…"),
        ("/connections?q=lena%40example.com&filter=active", "/connections?…"),
        ("/connections", "/connections"),
        ("/api/v1/verify", "/api/v1/verify"),
        ("/verify", "/verify"),
        ("/", "/"),
    ],
)
def test_a_path_is_logged_without_what_it_carries(path: str, logged: str) -> None:
    assert redact(path) == logged


def test_every_route_with_a_text_parameter_is_redacted(app: Any) -> None:
    """A new route carrying a token or a code in its path cannot be forgotten here."""
    for route in app.routes:
        text_param = re.search(r"\{\w+:str\}", route.path)
        if text_param and route.path not in NOT_SECRET:
            prefix = route.path[: text_param.start()]
            assert prefix in SECRET_PATHS, f"{route.path}: add {prefix!r} to src.access_log.SECRET_PATHS"
            assert redact(route.path) == prefix + HIDDEN


def test_uvicorn_access_lines_go_through_the_filter() -> None:
    """The logging set-up `portal serve` hands uvicorn, applied, then a line as uvicorn writes one."""
    config = log_config()
    stream = io.StringIO()
    config["handlers"]["access"]["stream"] = stream
    logging.config.dictConfig(config)
    try:
        logging.getLogger("uvicorn.access").info(
            '%s - "%s %s HTTP/%s" %d', "203.0.113.9:51234", "GET", f"/reset-password/{TOKEN}", "1.1", 200
        )
        line = stream.getvalue()
        assert '"GET /reset-password/… HTTP/1.1" 200' in line
        assert TOKEN not in line
        assert "203.0.113.9" in line  # who asked stays: it is what an access log is for
    finally:
        logging.getLogger("uvicorn.access").handlers.clear()
