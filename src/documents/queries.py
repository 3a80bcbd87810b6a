"""Reading documents, always through their owner."""

from __future__ import annotations

import json
from typing import Any

from src.db import Paging, Row
from src.tables.accounts import Account
from src.tables.documents import Document


async def owned_by(learner: Account, ids: list[int] | None = None) -> list[Document]:
    """The learner's documents, newest award first; with `ids`, only those of them (others are left out)."""
    query = Document.objects().where(Document.owner == learner.id)
    if ids is not None:
        query = query.where(Document.id.is_in(ids or [-1]))
    return await query.order_by(Document.awarded_on, ascending=False)


async def titles_owned_by(learner: Account) -> list[dict[str, Any]]:
    """The learner's documents' ids and titles, newest award first (to choose one from a list)."""
    return await (
        Document.select(Document.id, Document.title)
        .where(Document.owner == learner.id)
        .order_by(Document.awarded_on, Document.id, ascending=False)
    )


DOCUMENTS_PAGE = 20


# What a card on the documents page shows (and the one status rule reads): plain rows, not Table
# objects, and no content snapshot, which the list never shows.
CARD_COLUMNS = (
    Document.id,
    Document.title,
    Document.kind,
    Document.qualification_code,
    Document.level,
    Document.awarded_on,
    Document.valid_until,
    Document.certificate_number,
    Document.status,
    Document.show_on_verify,
)


async def page_owned_by(learner: Account, page: int) -> tuple[list[dict[str, Any]], int, bool]:
    """One page of the learner's documents, newest award first (the index on owner, awarded_on and
    id serves it in order, so page 1 of 200 documents costs what page 1 of 2 does): the rows, the
    page number (clamped) and whether another page follows."""
    paging = Paging.of(page, DOCUMENTS_PAGE)
    query = (
        Document.select(*CARD_COLUMNS)
        .where(Document.owner == learner.id)
        .order_by(Document.awarded_on, Document.id, ascending=False)
    )
    rows, has_next = paging.cut(await paging.apply(query))
    return rows, paging.page, has_next


def content_of(document: Document | dict[str, Any]) -> dict[str, Any]:
    """The frozen content snapshot as a dict (Piccolo hands a JSON column back as text), whose keys
    also read as attributes (src.db.Row), as the document partial reads them."""
    raw = document["content"] if isinstance(document, dict) else document.content
    loaded = json.loads(raw, object_hook=Row) if isinstance(raw, str) else raw
    return loaded if isinstance(loaded, dict) else Row()
