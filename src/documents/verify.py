"""The public check of a verify code: what the verify page and the verifier API both answer.

One order, so that nothing is learnt cheaply: the check character first (a typing error costs no
database work), then the per-IP throttle on failed lookups, then one indexed query (verify_code is
unique) that also reads whether a replacement may be linked. A database failure is never a verdict.
"""

from __future__ import annotations

import logging
import math
import sqlite3
from asyncio import sleep
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

# Failed lookups (well-formed codes that match nothing) per IP: a bucket of 20, one back every 45 s
# (the 80 an hour of a 20-per-15-minutes window, without walling an office behind one address off
# for 15 minutes). A person who mistypes gets a typing error instead, which is not counted; 80-bit
# codes make guessing hopeless anyway.
FAILED_LOOKUP_LIMIT = 20
FAILED_LOOKUP_REFILL_SECONDS = 45
FAILED_LOOKUPS = throttle.Bucket(FAILED_LOOKUP_LIMIT, FAILED_LOOKUP_REFILL_SECONDS)
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

    @property
    def try_again(self) -> str:
        """When a limited client may check again, in words ("Try again in 45 seconds.")."""
        return f"Try again in {in_words(self.retry_after)}." if self.retry_after else ""

    @property
    def detail(self) -> str:
        """The headline, and when to try again if that is what it is about (the API's detail)."""
        return f"{self.headline}. {self.try_again}" if self.retry_after else self.headline


def in_words(seconds: int) -> str:
    """A wait as a person says it: "1 second", "45 seconds", "2 minutes" (rounded up)."""
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


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
    moment = now.timestamp()
    try:
        if wait := await throttle.token_wait(store, key, FAILED_LOOKUPS, moment):
            return _too_many(code, wait)
        row = await by_verify_code(code)
        if row is None:
            # A token is taken after the lookup, atomically in the store, and the answer decided on
            # what the store hands back: a burst of parallel guesses gets exactly the tokens left.
            if wait := await throttle.take(store, key, FAILED_LOOKUPS, moment):
                return _too_many(code, wait)
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


def _too_many(code: str, wait: float) -> Verdict:
    """Blocked until the next token: no lookup, not even of codes that exist."""
    # Rounded first: a wait of 45 s read back from the store may be 45.00001.
    return Verdict("too_many", code, HEADLINES["too_many"], retry_after=max(1, math.ceil(round(wait, 3))))


# Checks waiting to be counted, and whether a request is writing them now. A burst of checks is
# written in one statement rather than one write transaction each (group commit): the request that
# finds nobody writing writes everything pending, including what arrives while it writes. (One
# event loop per process, as uvicorn runs it: between the last look at _pending and clearing
# _writing there is no await, so nothing is left behind.)
_pending: list[dict[str, Any]] = []
_writing = False
# Checks that came while a batch was being written mean a steady stream: the writer gathers for this
# long before the next batch, so a busy page commits a few times a second, not after every few
# scans (fast path: the verify gate of `make bench`). A lone check is written at once.
GATHER_SECONDS = 0.05


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
        gather = False
        while _pending:
            if gather:
                await sleep(GATHER_SECONDS)
            gather = True
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
