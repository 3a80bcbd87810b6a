"""Finding a document by its verify code: the verify page's one query, kept cheap.

On PostgreSQL it is one prepared statement through the pool (Piccolo's query builder cost more
Python time per scan than the query itself). On SQLite it reads through one long-lived read-only
connection per process (a Piccolo query would hop to a worker thread and back). An indexed lookup by a unique
code takes tens of microseconds, so it runs inline; a busy database fails fast (and the page says
"could not check") rather than holding the event loop.
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from typing import Any

from piccolo.engine.sqlite import SQLiteEngine
from piccolo.querystring import QueryString

from src.tables.documents import Document

READ_TIMEOUT_SECONDS = 0.05
_readers: dict[str, sqlite3.Connection] = {}

# The code is a bound parameter (`?` on SQLite, `{}` for Piccolo's QueryString on PostgreSQL). verify_code is unique, so this is one index probe plus one primary-key probe.
SQLITE_QUERY = """
SELECT d.id, d.status, d.kind, d.title, d.qualification_code, d.level, d.name_as_printed,
       d.awarded_on, d.valid_until, d.certificate_number, d.revoked_reason, d.revoked_at,
       d.superseded_at, d.show_on_verify, d.content,
       n.verify_code AS newer_code, n.show_on_verify AS newer_shown
FROM document d LEFT JOIN document n ON n.id = d.superseded_by
WHERE d.verify_code = ? LIMIT 1
"""
POSTGRES_QUERY = SQLITE_QUERY.replace("?", "{}")


def _reader(path: str) -> sqlite3.Connection:
    connection = _readers.get(path)
    if connection is None:
        connection = sqlite3.connect(
            f"file:{path}?mode=ro", uri=True, timeout=READ_TIMEOUT_SECONDS, check_same_thread=False
        )
        connection.row_factory = sqlite3.Row
        _readers[path] = connection
    return connection


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _moment(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _from_sqlite(path: str, code: str) -> dict[str, Any] | None:
    row = _reader(path).execute(SQLITE_QUERY, (code,)).fetchone()
    if row is None:
        return None
    found = dict(row)
    found["awarded_on"] = _day(found["awarded_on"])
    found["valid_until"] = _day(found["valid_until"])
    found["revoked_at"] = _moment(found["revoked_at"])
    found["superseded_at"] = _moment(found["superseded_at"])
    found["show_on_verify"] = bool(found["show_on_verify"])
    found["newer_shown"] = bool(found["newer_shown"])
    return found


async def by_verify_code(code: str) -> dict[str, Any] | None:
    """The document with this (canonical) code, with `newer_code` and `newer_shown` for its
    replacement if it has one; None when no document has it. Database errors propagate. `content`
    is the snapshot as stored (JSON text): documents.content_of reads it, and only a page that shows
    the document needs it (parsing it on every scan was a tenth of the lookup)."""
    engine = Document._meta.db
    if isinstance(engine, SQLiteEngine):
        return _from_sqlite(str(engine.connection_kwargs["database"]), code)
    rows = await engine.run_querystring(QueryString(POSTGRES_QUERY, code))
    if not rows:
        return None
    return dict(rows[0])
