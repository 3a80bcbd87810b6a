"""PrintOrder: a learner's order of a printed copy of one of their documents."""

from __future__ import annotations

from enum import Enum

from piccolo.columns import JSON, ForeignKey, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from src.tables.accounts import Account
from src.tables.documents import Document


class PrintOrderState(str, Enum):
    requested = "requested"
    printed = "printed"
    dispatched = "dispatched"
    cancelled = "cancelled"  # by the learner, while still requested


class PrintOrder(Table):
    id: Serial  # added by Piccolo; declared for type checkers
    document = ForeignKey(references=Document, index=True)
    learner = ForeignKey(references=Account, index=True)
    state = Varchar(length=12, choices=PrintOrderState, default=PrintOrderState.requested.value, index=True)
    # Copies of the two addresses as they were when the order was placed (line1, line2, town,
    # postcode, country): a later edit or removal of the profile's address never changes an order.
    delivery_address = JSON(default="{}")
    billing_address = JSON(default="{}")
    # The document's id while the order is requested, NULL once it is not: the unique index lets at
    # most one requested order exist per document, whatever requests race (NULLs never collide).
    open_for_document = Integer(null=True, default=None, unique=True)
    printed_at = Timestamptz(null=True, default=None)
    dispatched_at = Timestamptz(null=True, default=None)
    cancelled_at = Timestamptz(null=True, default=None)
    version = Integer(default=0)  # compare-and-set: every change is WHERE id, state, version
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
