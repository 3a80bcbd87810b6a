"""Builders for document-viewing and report tests: a learner's documents shared with a third party in
an active connection, made through the same rules the pages use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from src.tables.connections import Connection
from src.tables.documents import Document
from tests.support.connection_fixtures import People, build_connection, make_document, prepare_people


@dataclass
class World:
    people: People
    shared: Document  # the learner's document shared with the third party
    unshared: Document  # the learner's document not shared
    others: Document  # the other learner's document, shared with the other third party
    connection: Connection  # learner <-> third party, active, sharing `shared`
    other_connection: Connection  # other learner <-> other third party, active, sharing `others`

    def viewer(self, document: Document | None = None, connection: Connection | None = None) -> str:
        """The third party's viewer path for a document in a connection (the shared pair by default)."""
        return f"/connections/{(connection or self.connection).id}/documents/{(document or self.shared).id}"


async def build_world(state: str = "active") -> World:
    people = await prepare_people()
    shared = await make_document(people.learner, 1)
    unshared = await make_document(people.learner, 2)
    others = await make_document(people.other_learner, 1)
    connection = await build_connection(state, people.learner, people.third_party, [shared])
    other_connection = await build_connection(
        "active", people.other_learner, people.other_third_party, [others]
    )
    return World(people, shared, unshared, others, connection, other_connection)


async def revoke(document: Document, wording: str = "Issued in error") -> None:
    """What staff revocation leaves on a document (the staff pages are another module's work)."""
    await Document.update(
        {
            Document.status: "revoked",
            Document.revoked_reason: wording,
            Document.revoked_note: "Staff-only note: learner complained",
            Document.revoked_at: datetime.now(UTC),
            Document.version: Document.version + 1,
        }
    ).where(Document.id == document.id)


async def supersede(old: Document, new: Document) -> None:
    await Document.update(
        {
            Document.status: "superseded",
            Document.superseded_by: new.id,
            Document.superseded_at: datetime.now(UTC),
        }
    ).where(Document.id == old.id)
