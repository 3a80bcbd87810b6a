"""Printing: duplicates of documents as PDFs (staff, made on demand, never stored) and learners'
orders of printed copies, with the staff print queue. Other code uses only the names below."""

from src.printing.duplicate import Duplicate, duplicate_pdf, filename_for, print_duplicate
from src.printing.orders import (
    ADDRESS_FIELDS,
    STATES,
    address_lines,
    cancel_order,
    mark_dispatched,
    mark_printed,
    place_order,
)
from src.printing.queries import QueuePage, open_orders_for, order_for_staff, order_of, orders_of, print_queue

__all__ = [
    "ADDRESS_FIELDS",
    "STATES",
    "Duplicate",
    "QueuePage",
    "address_lines",
    "cancel_order",
    "duplicate_pdf",
    "filename_for",
    "mark_dispatched",
    "mark_printed",
    "open_orders_for",
    "order_for_staff",
    "order_of",
    "orders_of",
    "place_order",
    "print_duplicate",
    "print_queue",
]
