"""Finding a document by its verify code: the verify page's one query.

A `db.fetch` statement (the verify gate of `make bench`): on SQLite it runs inline on the pool's read
connection, on PostgreSQL as one raw statement through the pool, and `db.statements_run` counts it
like any other read. verify_code is unique, so it is one index probe plus one primary-key probe.
"""

from __future__ import annotations

from src.db import Row, Statement, fetch_one

_BY_VERIFY_CODE = Statement(
    """
SELECT d.id, d.status, d.kind, d.title, d.qualification_code, d.level, d.name_as_printed,
       d.awarded_on, d.valid_until, d.certificate_number, d.revoked_reason, d.revoked_at,
       d.superseded_at, d.show_on_verify, d.content,
       n.verify_code AS newer_code, n.show_on_verify AS newer_shown
FROM document d LEFT JOIN document n ON n.id = d.superseded_by
WHERE d.verify_code = {} LIMIT 1
"""
)


async def by_verify_code(code: str) -> Row | None:
    """The document with this (canonical) code, with `newer_code` and `newer_shown` for its
    replacement if it has one (None without one); None when no document has it. Database errors
    propagate. `content` is the snapshot as stored (JSON text), parsed by documents.content_of only
    for a page that shows the document."""
    return await fetch_one(_BY_VERIFY_CODE, code)
