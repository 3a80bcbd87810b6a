"""The audit log: who did what, to which connection or document, and when (the AccessEvent table).

Every area writes it through `record`, with an `AuditAction`: the learner's Activity page and the
staff history read these actions back, so a free-text action would be an event nobody shows. The
values are the stored strings; never rename one.
"""

from __future__ import annotations

from enum import StrEnum

from src.tables.accounts import Account
from src.tables.connections import AccessEvent

MAX_DETAIL = 200  # the column's length


class AuditAction(StrEnum):
    # On a connection (the learner's Activity page lists them with their actor).
    requested = "requested"
    accepted = "accepted"
    declined = "declined"
    cancelled = "cancelled"
    extended = "extended"
    shared = "shared"
    changed_documents = "changed_documents"
    requested_extension = "requested_extension"
    approved_extension = "approved_extension"
    declined_extension = "declined_extension"
    viewed_documents = "viewed_documents"  # a third party opened the connection's list of documents
    # ... and one shared document (its id is the watermark's number); also staff opening a document's
    # page (no connection): the learner's "Seen by" lists both, staff as "Staff of <ORG_NAME>".
    viewed_document = "viewed_document"
    # On a document.
    # Written until verify checks were counted per day (VerifyTally); older rows still show.
    checked_on_the_verify_page = "checked_on_the_verify_page"  # the time only: nobody, no IP
    issued_document = "issued_document"
    imported_documents = "imported_documents"  # one per confirmed CSV import, on no document
    revoked_document = "revoked_document"
    superseded_document = "superseded_document"
    printed_duplicate = "printed_duplicate"
    # On an account (its own security settings).
    added_passkey = "added_passkey"
    removed_passkey = "removed_passkey"
    # On an account's two-step sign-in (the actor is the person; for a reset, the member of staff,
    # with the person and the reason in the detail).
    turned_on_two_step = "turned_on_two_step"
    turned_off_two_step = "turned_off_two_step"
    replaced_authenticator = "replaced_authenticator"
    regenerated_recovery_codes = "regenerated_recovery_codes"
    used_recovery_code = "used_recovery_code"
    reset_two_step = "reset_two_step"
    # On no connection or document: the person downloaded a copy of their data (counted: 3 a day).
    downloaded_data = "downloaded_data"


async def record(
    action: AuditAction,
    actor: Account | None,
    *,
    connection: int | None = None,
    document: int | None = None,
    detail: str = "",
) -> int:
    """Write one event (inside the caller's transaction when there is one) and return its id."""
    event = AccessEvent(
        account=actor.id if actor is not None else None,
        action=action.value,
        connection=connection,
        document=document,
        detail=detail[:MAX_DETAIL],
    )
    await event.save()
    return int(event.id)
