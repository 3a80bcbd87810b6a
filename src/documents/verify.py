"""The public check of a verify code: what the verify page and the verifier API both answer.

One order, so that nothing is learnt cheaply: the check character first (a typing error costs no
database work), then the per-IP throttle on failed lookups, then one indexed query (verify_code is
unique) that also reads whether a replacement may be linked. A database failure is never a verdict.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from litestar.stores.base import Store
from redis.exceptions import RedisError

from src import throttle
from src.db import Row, add_counts, engine
from src.documents.lookup import by_verify_code
from src.documents.queries import content_of
from src.documents.status import verify_headline
from src.documents.verify_codes import is_well_formed, normalise
from src.tables.documents import Document, VerifyTally

log = logging.getLogger("portal.verify")

# Failed lookups (well-formed codes that match nothing) per IP per window. A person who mistypes
# gets a typing error instead, which is not counted; 80-bit codes make guessing hopeless anyway.
FAILED_LOOKUP_LIMIT = 20
FAILED_LOOKUP_WINDOW = 15 * 60
MAX_TYPED = 100  # a code with generous spaces and dashes is far shorter; anything longer is a typo

HTTP_STATUS = {
    "valid": 200,
    "valid_until": 200,
    "expired": 200,
    "revoked": 200,
    "superseded": 200,
    "typing_error": 400,
    "not_found": 404,
    "too_many": 429,
    "unavailable": 503,
}
HEADLINES = {
    "typing_error": "This code has a typing error",
    "not_found": "No document has this code",
    "too_many": "Too many codes checked from here",
    "unavailable": "We could not check this document just now; try again shortly",
}
# Errors that mean "the database (or the throttle's store) did not answer", not "the code is unknown".
DATABASE_ERRORS = (sqlite3.Error, asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)
UNAVAILABLE = (*DATABASE_ERRORS, RedisError)


@dataclass(frozen=True)
class Verdict:
    status: str
    code: str  # the canonical (normalised) code
    headline: str
    checked_at: datetime | None = None
    facts: dict[str, Any] | None = None  # key facts, for any document that exists
    content: dict[str, Any] | None = None  # the document itself, only when the learner allows it
    newer_code: str | None = None  # the replacement, only when it is shown on its own page
    status_on: date | None = None
    document_id: int | None = field(default=None, repr=False)
    retry_after: int | None = None

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.status]

    @property
    def found(self) -> bool:
        return self.facts is not None


def _throttle_key(client: str) -> str:
    return f"verify-failed:{client}"


async def verify(
    typed: str, *, store: Store, client: str, now: datetime, tz: ZoneInfo, awarding_body: str
) -> Verdict:
    """Check a code as typed or scanned, for the person at `client` (their IP)."""
    code = normalise(typed[: MAX_TYPED + 1])
    if len(typed) > MAX_TYPED or not is_well_formed(code):
        return Verdict("typing_error", code, HEADLINES["typing_error"])
    key = _throttle_key(client)
    try:
        if await throttle.count(store, key) >= FAILED_LOOKUP_LIMIT:
            return await _too_many(store, key, code)
        row = await by_verify_code(code)
        if row is None:
            # Counted after the lookup and decided on the count the store hands back, so a burst
            # of parallel guesses gets exactly FAILED_LOOKUP_LIMIT answers however it interleaves.
            if await throttle.hit(store, key, FAILED_LOOKUP_WINDOW) > FAILED_LOOKUP_LIMIT:
                return await _too_many(store, key, code)
            return Verdict("not_found", code, HEADLINES["not_found"])
    except UNAVAILABLE as exc:
        # The database or the throttle's store did not answer: no verdict, and no unthrottled lookup.
        log.warning("verify check failed: %s", exc)
        return Verdict("unavailable", code, HEADLINES["unavailable"])
    today = now.astimezone(tz).date()
    found, headline = verify_headline(row, today, tz, awarding_body)
    shown = bool(row["show_on_verify"]) and found.code != "revoked"
    newer = row["newer_code"] if found.code == "superseded" and row["newer_shown"] else None
    return Verdict(
        found.code,
        code,
        headline,
        checked_at=now,
        facts=Row(
            name_as_printed=row["name_as_printed"],
            title=row["title"],
            kind=row["kind"],
            qualification_code=row["qualification_code"],
            level=row["level"],
            awarded_on=row["awarded_on"],
            valid_until=row["valid_until"],
            certificate_number=row["certificate_number"],
            awarding_body=awarding_body,
        ),
        content=_public(content_of(row)) if shown else None,
        newer_code=newer,
        status_on=found.on,
        document_id=row["id"],
    )


# The learner's own references: on their document for them and the people they share it with, never
# on a public page that anyone holding the code may open.
PRIVATE_FIELDS = frozenset({"enrolment_number", "uln"})


def _public(content: dict[str, Any]) -> Row:
    return Row((key, value) for key, value in content.items() if key not in PRIVATE_FIELDS)


async def _too_many(store: Store, key: str, code: str) -> Verdict:
    remaining = await store.expires_in(key)
    return Verdict(
        "too_many",
        code,
        HEADLINES["too_many"],
        retry_after=remaining if remaining and remaining > 0 else FAILED_LOOKUP_WINDOW,
    )


# Checks waiting to be counted, and whether a request is writing them now. A burst of checks is
# written in one statement rather than one write transaction each (group commit): the request that
# finds nobody writing writes everything pending, including what arrives while it writes. (One
# event loop per process, as uvicorn runs it: between the last look at _pending and clearing
# _writing there is no await, so nothing is left behind.)
_pending: list[dict[str, Any]] = []
_writing = False


async def record_checks(document_ids: list[int], at: datetime, tz: ZoneInfo) -> None:
    """Count each check of an existing code for its learner's Activity, per document and day (in the
    portal's time zone `tz`): a number and the latest time only (no IP, no device, no account). Run
    after the answer is sent; a failure here never changes a verdict."""
    global _writing
    day = at.astimezone(tz).date()
    _pending.extend(
        {"document": document_id, "day": day, "checks": 1, "last_at": at} for document_id in document_ids
    )
    if _writing:
        return  # the request writing now takes these too, before it stops
    _writing = True
    try:
        while _pending:
            batch = _pending[:]
            del _pending[:]
            try:
                # One INSERT … ON CONFLICT DO UPDATE for the batch, no Piccolo row object per check
                # (fast path: the verify gate of `make bench`).
                async with engine().transaction():
                    await add_counts(VerifyTally, ("document", "day"), "checks", "last_at", batch)
            except DATABASE_ERRORS as exc:
                log.warning("could not count %d verify checks: %s", len(batch), exc)
    finally:
        _writing = False


async def set_shown_on_verify(owner_id: int, document_id: int, shown: bool) -> bool:
    """The learner's switch: show the document itself on its verify page. Owner-scoped; False when
    the document is not theirs (the caller answers 404)."""
    changed = (
        await Document.update({Document.show_on_verify: shown})
        .where((Document.id == document_id) & (Document.owner == owner_id))
        .returning(Document.id)
    )
    return bool(changed)
