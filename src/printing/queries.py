"""What people read about print orders: a learner's own (a 404 for anyone else's), and the staff
print queue, oldest first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from src.db import Paging
from src.printing.orders import STATES, address_lines
from src.tables.accounts import Account
from src.tables.printing import PrintOrder

QUEUE_PAGE = 50


def _columns() -> list[Any]:
    return [
        PrintOrder.id,
        PrintOrder.state,
        PrintOrder.version,
        PrintOrder.document,
        PrintOrder.created_at,
        PrintOrder.printed_at,
        PrintOrder.dispatched_at,
        PrintOrder.cancelled_at,
        PrintOrder.delivery_address,
        PrintOrder.billing_address,
        PrintOrder.document.title.as_alias("document_title"),
        PrintOrder.document.certificate_number.as_alias("certificate_number"),
        PrintOrder.document.status.as_alias("document_status"),
    ]


def _readable(row: dict[str, Any]) -> dict[str, Any]:
    row["delivery_lines"] = address_lines(row.pop("delivery_address"))
    row["billing_lines"] = address_lines(row.pop("billing_address"))
    return row


async def orders_of(learner: Account) -> list[dict[str, Any]]:
    """The learner's orders, newest first."""
    rows = (
        await PrintOrder.select(*_columns())
        .where(PrintOrder.learner == learner.id)
        .order_by(PrintOrder.id, ascending=False)
        .limit(200)
    )
    return [_readable(row) for row in rows]


async def order_of(learner: Account, order_id: int) -> dict[str, Any] | None:
    """One of the learner's orders, or None (another person's order does not exist for them)."""
    row = (
        await PrintOrder.select(*_columns())
        .where((PrintOrder.id == order_id) & (PrintOrder.learner == learner.id))
        .first()
    )
    return _readable(row) if row else None


async def open_orders_for(learner: Account, document_ids: list[int]) -> set[int]:
    """Which of these documents of the learner have an order waiting to be printed."""
    if not document_ids:
        return set()
    rows = await PrintOrder.select(PrintOrder.document).where(
        (PrintOrder.learner == learner.id) & PrintOrder.open_for_document.is_in(document_ids)
    )
    return {row["document"] for row in rows}


@dataclass
class QueuePage:
    rows: list[dict[str, Any]]
    page: int
    has_next: bool
    state: str


async def print_queue(state: str = "requested", page: int = 1) -> QueuePage:
    """Orders in one state (any state for ""), oldest first, with the learner's name: staff only."""
    paging = Paging.of(page, QUEUE_PAGE)
    query = PrintOrder.select(
        *_columns(),
        PrintOrder.learner.first_name.as_alias("first_name"),
        PrintOrder.learner.last_name.as_alias("last_name"),
    )
    state = state if state in STATES else ""
    if state:
        query = query.where(PrintOrder.state == state)
    rows, has_next = paging.cut(await paging.apply(query.order_by(PrintOrder.id)))
    return QueuePage([_readable(row) for row in rows], paging.page, has_next, state)


async def order_for_staff(order_id: int) -> dict[str, Any] | None:
    row = await PrintOrder.select(*_columns()).where(PrintOrder.id == order_id).first()
    return _readable(row) if row else None
