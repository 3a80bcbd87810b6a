"""Print orders: a learner orders a printed copy of a valid document, to one of their delivery
addresses, billed to one of their billing addresses; staff print it and dispatch it.

    requested -> printed -> dispatched
    requested -> cancelled (by the learner, while nobody has printed it)

Each change is one write transaction: a compare-and-set on (id, state, version) and the learner's
email in the outbox, so two racing changes (a cancel and a "printed") give one winner and one email.
The order keeps copies of both addresses as they were: editing the profile later changes no order.
At most one order per document is requested at a time: `open_for_document` holds the document's id
while it is, and its unique index refuses a second one whatever requests race.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from src.clock import utcnow
from src.db import compare_and_set, unique_violation, write_transaction
from src.documents import standing
from src.errors import Conflict, Refused
from src.mail import enqueue
from src.tables.accounts import Account, Address
from src.tables.documents import Document, DocumentStatus
from src.tables.printing import PrintOrder, PrintOrderState

ADDRESS_FIELDS = ("line1", "line2", "town", "postcode", "country")
STATES = tuple(state.value for state in PrintOrderState)


def address_copy(address: Address) -> dict[str, str]:
    return {name: getattr(address, name) or "" for name in ADDRESS_FIELDS}


def address_lines(copy: Any) -> list[str]:
    """The lines of an address copy (as stored: a dict, or JSON text from SQLite) for pages and emails."""
    values = json.loads(copy) if isinstance(copy, str) else copy or {}
    return [str(values[name]) for name in ADDRESS_FIELDS if values.get(name)]


async def _address(learner: Account, address_id: int, flag: Any) -> Address | None:
    return (
        await Address.objects()
        .where((Address.id == address_id) & (Address.account == learner.id) & (flag == True))  # noqa: E712
        .first()
    )


async def _email(order_id: int, event: str) -> None:
    """The learner's email about this order's new state (inside the caller's transaction)."""
    row = (
        await PrintOrder.select(
            PrintOrder.learner.email.as_alias("email"),
            PrintOrder.learner.first_name.as_alias("first_name"),
            PrintOrder.document.title.as_alias("document_title"),
            PrintOrder.document.certificate_number.as_alias("certificate_number"),
            PrintOrder.delivery_address,
        )
        .where(PrintOrder.id == order_id)
        .first()
    )
    if row is None:
        return
    await enqueue(
        row["email"],
        f"print_order_{event}",
        {
            "first_name": row["first_name"],
            "order_id": order_id,
            "document_title": row["document_title"],
            "certificate_number": row["certificate_number"],
            "delivery_lines": address_lines(row["delivery_address"]),
        },
        f"print_order:{order_id}:{event}",
    )


async def place_order(
    learner: Account, document_id: int, delivery_id: int, billing_id: int, today: date
) -> PrintOrder:
    """Order a printed copy of the learner's own valid document. LookupError: not their document.
    Refused: the document is no longer valid, an address is not one of theirs (with that role),
    or an order for this document is already waiting to be printed."""
    try:
        async with write_transaction():
            document = (
                await Document.objects()
                .where((Document.id == document_id) & (Document.owner == learner.id))
                .first()
            )
            if document is None:
                raise LookupError(document_id)
            if not standing(document, today).is_current:
                raise Refused("Only a valid document can be printed", "document")
            delivery = await _address(learner, delivery_id, Address.is_delivery)
            if delivery is None:
                raise Refused("Choose one of your delivery addresses", "delivery")
            billing = await _address(learner, billing_id, Address.is_billing)
            if billing is None:
                raise Refused("Choose one of your billing addresses", "billing")
            order = PrintOrder(
                document=document.id,
                learner=learner.id,
                delivery_address=address_copy(delivery),
                billing_address=address_copy(billing),
                open_for_document=document.id,
            )
            await order.save()
            await _email(order.id, "requested")
    except (LookupError, Refused):
        raise
    except Exception as exc:
        if unique_violation(exc) is not None:
            raise Refused(
                "You already have an order for this document waiting to be printed", "document"
            ) from exc
        raise
    return order


async def _change(
    order_id: int,
    version: int,
    before: PrintOrderState,
    after: PrintOrderState,
    learner: Account | None = None,
) -> None:
    """One state change of one order, as a compare-and-set with its email."""
    async with write_transaction():
        where: Any = PrintOrder.id == order_id
        if learner is not None:
            where = where & (PrintOrder.learner == learner.id)
        order = await PrintOrder.objects().where(where).first()
        if order is None:
            raise LookupError(order_id)
        if after is PrintOrderState.printed:
            status = await Document.select(Document.status).where(Document.id == order.document).first()
            if status is None or status["status"] != DocumentStatus.valid.value:
                raise Refused("The document was revoked or replaced, so it cannot be printed")
        now = utcnow()
        changes: dict[Any, Any] = {
            PrintOrder.state: after.value,
            PrintOrder.version: version + 1,
            PrintOrder.open_for_document: None,
        }
        stamp = {
            PrintOrderState.printed: PrintOrder.printed_at,
            PrintOrderState.dispatched: PrintOrder.dispatched_at,
            PrintOrderState.cancelled: PrintOrder.cancelled_at,
        }[after]
        changes[stamp] = now
        won = await compare_and_set(
            PrintOrder, order_id, {PrintOrder.state: before.value, PrintOrder.version: version}, changes
        )
        if not won:
            raise Conflict()  # cancelled, printed or dispatched meanwhile
        await _email(order_id, after.value)


async def cancel_order(learner: Account, order_id: int, version: int) -> None:
    """The learner cancels their order while it is still requested. LookupError: not theirs."""
    await _change(order_id, version, PrintOrderState.requested, PrintOrderState.cancelled, learner)


async def mark_printed(order_id: int, version: int) -> None:
    """Staff have printed the duplicate for this order."""
    await _change(order_id, version, PrintOrderState.requested, PrintOrderState.printed)


async def mark_dispatched(order_id: int, version: int) -> None:
    """Staff have posted the printed copy."""
    await _change(order_id, version, PrintOrderState.printed, PrintOrderState.dispatched)
