"""Reports: problems that learners and third parties report on a document, and the staff who answer
them. Sending one is limited (per day, per document) and counted atomically; answering and closing
are compare-and-sets. Other code uses only the names below; the modules inside are private."""

from src.reports.actions import answer, close, submit
from src.reports.queries import INBOX_FILTERS, InboxPage, by_reporter, for_staff, inbox
from src.reports.rules import (
    CATEGORIES,
    MAX_MESSAGE,
    PER_DAY,
    PER_DOCUMENT,
    STATES,
    categories_for,
    check,
    check_answer,
)

__all__ = [
    "CATEGORIES",
    "INBOX_FILTERS",
    "MAX_MESSAGE",
    "PER_DAY",
    "PER_DOCUMENT",
    "STATES",
    "InboxPage",
    "answer",
    "by_reporter",
    "categories_for",
    "check",
    "check_answer",
    "close",
    "for_staff",
    "inbox",
    "submit",
]
