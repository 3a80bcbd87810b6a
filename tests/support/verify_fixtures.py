"""Documents in every standing the verify page knows, made through documents.issue; revoking and
superseding change the row the way staff actions will (status, date, public wording)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from piccolo.engine.sqlite import SQLiteEngine

from src import db
from src.documents import issue
from src.tables.documents import Document
from tests.support.factories import make_account


@dataclass
class Shelf:
    valid: Document
    valid_until: Document
    expired: Document
    revoked: Document
    superseded: Document
    newer: Document  # replaces `superseded`

    def by_status(self, status: str) -> Document:
        return getattr(self, status)  # type: ignore[no-any-return]


async def revoke(document: Document, wording: str = "issued in error", at: datetime | None = None) -> None:
    await Document.update(
        {
            Document.status: "revoked",
            Document.revoked_reason: wording,
            Document.revoked_note: "staff only: candidate file 17 mislaid",
            Document.revoked_category: "issued_in_error",
            Document.revoked_at: at or datetime(2026, 6, 2, 9, 30, tzinfo=UTC),
        }
    ).where(Document.id == document.id)


async def supersede(document: Document, newer: Document, at: datetime | None = None) -> None:
    await Document.update(
        {
            Document.status: "superseded",
            Document.superseded_by: newer.id,
            Document.superseded_at: at or datetime(2026, 7, 1, 12, 0, tzinfo=UTC),
        }
    ).where(Document.id == document.id)


async def shelf(day: date, shown: bool = False, can_log_in: bool = False) -> Shelf:
    """One learner's documents, one in each standing; `shown`: all shown on their verify pages.
    The learner, `lena`, has STRONG_PASSWORD when `can_log_in` (hashing costs time otherwise spared)."""
    lena = await make_account(
        "learner",
        "lena",
        **({} if can_log_in else {"password": None}),
        first_name="Łucja",
        last_name="Nguyễn",
    )
    fields = {"qualification_code": "603/1234/5", "level": "3", "show_on_verify": shown}
    docs = Shelf(
        valid=await issue(lena, "Level 3 Diploma in Data", "APC-1", date(2026, 3, 14), **fields),
        valid_until=await issue(
            lena,
            "First Aid at Work",
            "APC-2",
            date(2026, 1, 5),
            valid_until=day + timedelta(days=30),
            **fields,
        ),
        expired=await issue(
            lena, "Food Hygiene", "APC-3", date(2024, 1, 5), valid_until=day - timedelta(days=1), **fields
        ),
        revoked=await issue(lena, "Forklift Licence", "APC-4", date(2025, 2, 1), **fields),
        superseded=await issue(lena, "Level 2 Certificate", "APC-5", date(2025, 5, 1), **fields),
        newer=await issue(lena, "Level 2 Certificate (corrected)", "APC-6", date(2026, 7, 1), **fields),
    )
    await revoke(docs.revoked)
    await supersede(docs.superseded, docs.newer)
    return docs


def break_the_database(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Point the live engine at a database that cannot be reached (a missing directory; a closed
    port), for every way a read runs: a new connection, the pool's, SQLite's inline read connection."""
    engine = db.engine()
    if isinstance(engine, SQLiteEngine):
        monkeypatch.setattr(engine, "path", "/nonexistent-dir/portal.sqlite3")

        def unreachable(*args, **kwargs):  # type: ignore[no-untyped-def]
            raise sqlite3.OperationalError("unable to open database file")

        async def unreachable_async(*args, **kwargs):  # type: ignore[no-untyped-def]
            unreachable()

        if hasattr(engine, "acquire"):
            monkeypatch.setattr(engine, "acquire", unreachable_async)
            monkeypatch.setattr(engine, "reader", unreachable)
    else:
        monkeypatch.setattr(engine, "pool", None)
        monkeypatch.setitem(engine.config, "dsn", "postgresql://postgres@127.0.0.1:9/nowhere")
