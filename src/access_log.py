"""The server's access log, without the secrets and personal data that travel in URLs.

Sign-up, password-reset and email-change links carry a signed token in their path: whoever reads
a log line holding one could use the link until it expires. A verify address carries a document's
code, and a log line would tie it to the IP that checked it, which the learner's Activity never
records. Query strings hold what people typed (a search for a name or an email address). So each
access line keeps the route's fixed part and drops the rest: `GET /reset-password/… 200`.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

# Routes whose last path segment is a secret or a code (tests/test_access_log.py checks that every
# route with a text path parameter is here).
SECRET_PATHS = (
    "/v/",
    "/api/v1/verify/",
    "/verify-email/",
    "/activate/",
    "/email-change/stop/",
    "/reset-password/",
    "/profile/email/",
    "/profile/second-email/confirm/",
)
_SECRET = re.compile("^(" + "|".join(re.escape(prefix) for prefix in SECRET_PATHS) + ")[^?]*")
HIDDEN = "…"


def redact(path: str) -> str:
    """A request path (with its query string) as the access log may keep it."""
    path, question, _ = path.partition("?")
    path = _SECRET.sub(lambda found: found.group(1) + HIDDEN, path)
    return path + (question + HIDDEN if question else "")


class RedactURLs(logging.Filter):
    """For uvicorn's access logger, whose records carry (client, method, path, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (args[0], args[1], redact(args[2]), args[3], args[4])
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's own logging set-up, with access lines redacted (what `portal serve` passes it; each
    worker process applies it)."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_urls"] = {"()": RedactURLs}
    config["handlers"]["access"].setdefault("filters", []).append("redact_urls")
    return config
