"""Report: a problem someone reported on a document, and the staff answer to it."""

from __future__ import annotations

from enum import Enum

from piccolo.columns import ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from src.tables.accounts import Account
from src.tables.connections import Connection
from src.tables.documents import Document


class ReportCategory(str, Enum):
    wrong_name = "wrong_name"
    wrong_details = "wrong_details"  # wrong grade, unit or date
    should_not_see = "should_not_see"  # "I should not see this document"
    other = "other"


class ReportState(str, Enum):
    open = "open"
    answered = "answered"
    closed = "closed"


class Report(Table):
    id: Serial  # added by Piccolo; declared for type checkers
    document = ForeignKey(references=Document, index=True)
    reporter = ForeignKey(references=Account, index=True)
    # The connection a third party reported through (None for the learner's own document): their
    # way back to the document, while that connection still gives access.
    connection = ForeignKey(references=Connection, null=True, default=None)
    category = Varchar(length=20, choices=ReportCategory)
    message = Text()
    state = Varchar(length=12, choices=ReportState, default=ReportState.open.value, index=True)
    answer = Text(default="")
    answered_by = ForeignKey(references=Account, null=True, default=None)
    answered_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    version = Integer(default=0)  # compare-and-set: every change is WHERE id, state, version
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
