"""The sections about connections, from the person's side: the connections themselves, the requests
for more time, everything recorded about them (events) and the views of shared documents."""

from __future__ import annotations

from typing import Any

from src.audit import AuditAction
from src.exports.sections.section import (
    Reader,
    Rows,
    Section,
    Window,
    full_name,
    on_their_connection,
    who,
)
from src.tables.accounts import Account, Role
from src.tables.connections import AccessEvent, Connection, ExtensionRequest, SharedDocument


async def _connections(person: Account, reader: Reader, window: Window) -> Rows:
    query = Connection.select(
        *Connection.all_columns(exclude=[Connection.open_pair, Connection.version]),
        Connection.learner.first_name.as_alias("learner_first"),
        Connection.learner.last_name.as_alias("learner_last"),
        Connection.third_party.first_name.as_alias("tp_first"),
        Connection.third_party.last_name.as_alias("tp_last"),
        Connection.third_party.company_name.as_alias("tp_company"),
    ).where((Connection.learner == person.id) | (Connection.third_party == person.id))
    rows = await window.of(query, Connection.id)
    shared: dict[int, list[str]] = {}
    if rows:
        for item in await SharedDocument.select(
            SharedDocument.connection,
            SharedDocument.document,
            SharedDocument.document.title.as_alias("title"),
        ).where(SharedDocument.connection.is_in([row["id"] for row in rows])):
            shared.setdefault(item["connection"], []).append(f"{item['document']}: {item['title']}")
    out = []
    for row in rows:
        as_learner = row["learner"] == person.id
        out.append(
            {
                "id": row["id"],
                "you_are": "learner" if as_learner else "third party",
                "other_side": full_name(row["tp_first"], row["tp_last"], row["tp_company"])
                if as_learner
                else full_name(row["learner_first"], row["learner_last"]),
                "other_side_email": row["third_party_email"] if as_learner else row["learner_email"],
                "started_by": row["started_by"].replace("_", " "),
                "state": row["state"].replace("_", " "),
                "access_ends_on": row["expires_on"],
                "message": row["message"],
                "shared_documents": "; ".join(shared.get(row["id"], [])),
                "created_at": row["created_at"],
                "updated_at": row["updated_at"],
            }
        )
    return out


CONNECTIONS = Section(
    "connections",
    "your connections, with the other side and the documents shared",
    (
        "id",
        "you_are",
        "other_side",
        "other_side_email",
        "started_by",
        "state",
        "access_ends_on",
        "message",
        "shared_documents",
        "created_at",
        "updated_at",
    ),
    _connections,
)


async def _extension_requests(person: Account, reader: Reader, window: Window) -> Rows:
    query = ExtensionRequest.select(*ExtensionRequest.all_columns()).where(
        on_their_connection(ExtensionRequest.connection, person)
    )
    rows = await window.of(query, ExtensionRequest.id)
    return [
        {
            "id": row["id"],
            "connection": row["connection"],
            "asked_by": "you" if row["requested_by"] == person.id else "the other side",
            "wanted_until": row["wanted_until"],
            "message": row["message"],
            "state": row["state"],
            "decided_at": row["decided_at"],
            "new_access_end": row["new_expiry"],
            "created_at": row["created_at"],
        }
        for row in rows
    ]


EXTENSION_REQUESTS = Section(
    "extension_requests",
    "requests for more time on your connections",
    (
        "id",
        "connection",
        "asked_by",
        "wanted_until",
        "message",
        "state",
        "decided_at",
        "new_access_end",
        "created_at",
    ),
    _extension_requests,
)


EVENT_FIELDS = (
    AccessEvent.id,
    AccessEvent.at,
    AccessEvent.action,
    AccessEvent.account,
    AccessEvent.account.role.as_alias("role"),
    AccessEvent.account.first_name.as_alias("first_name"),
    AccessEvent.account.last_name.as_alias("last_name"),
    AccessEvent.account.company_name.as_alias("company"),
    AccessEvent.connection,
    AccessEvent.document,
    AccessEvent.document.title.as_alias("document_title"),
    AccessEvent.detail,
)


async def _events(person: Account, reader: Reader, window: Window) -> Rows:
    """Every event the person did, every event on their connections, and every event on their
    documents (their issue, a change of status, a printed duplicate, a view)."""
    mine: Any = (AccessEvent.account == person.id) | on_their_connection(AccessEvent.connection, person)
    if person.role == Role.learner.value:
        mine = mine | (AccessEvent.document.owner == person.id)
    rows = await window.of(AccessEvent.select(*EVENT_FIELDS).where(mine), AccessEvent.id)
    return [
        {
            "id": row["id"],
            "at": row["at"],
            "what": row["action"].replace("_", " "),
            "who": who(person, reader, row),
            "connection": row["connection"],
            "document": row["document"],
            "document_title": row["document_title"],
            "detail": row["detail"],
        }
        for row in rows
    ]


EVENTS = Section(
    "events",
    "everything recorded about your connections and documents, and what you did: who, what and when",
    ("id", "at", "what", "who", "connection", "document", "document_title", "detail"),
    _events,
)


OWNER: Any = AccessEvent.document.owner  # the learner whose document was viewed


async def _views(person: Account, reader: Reader, window: Window) -> Rows:
    """A learner: each view of their documents, by whom. A third party: each view they made."""
    viewed = AccessEvent.action == AuditAction.viewed_document.value
    if person.role == Role.learner.value:
        query = AccessEvent.select(*EVENT_FIELDS).where(viewed & (AccessEvent.document.owner == person.id))
    else:
        query = AccessEvent.select(
            *EVENT_FIELDS,
            OWNER.first_name.as_alias("owner_first"),
            OWNER.last_name.as_alias("owner_last"),
        ).where(viewed & (AccessEvent.account == person.id))
    return [
        {
            "id": row["id"],
            "at": row["at"],
            "document": row["document"],
            "document_title": row["document_title"],
            "seen_by": who(person, reader, row),
            "learner": full_name(row.get("owner_first"), row.get("owner_last")) or "you",
            "connection": row["connection"],
        }
        for row in await window.of(query, AccessEvent.id)
    ]


VIEWS = Section(
    "views",
    "views of your documents by the people you shared them with (for a third party: the views you made)",
    ("id", "at", "document", "document_title", "seen_by", "learner", "connection"),
    _views,
)
