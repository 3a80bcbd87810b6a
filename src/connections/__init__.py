"""Connections between a learner and a third party: the rules, reading them, the actions that
change them (each a compare-and-set with its emails and AccessEvent), extension requests, and the
reminder job. Other code uses only the names below; the modules inside are private."""

from src.connections.actions import (
    accept_as_learner,
    accept_as_third_party,
    add_connection,
    attach_pending,
    cancel,
    change_documents,
    decline,
    extend,
    share,
)
from src.connections.extensions import approve as approve_extension
from src.connections.extensions import decline as decline_extension
from src.connections.extensions import pending_for as pending_extension
from src.connections.extensions import request_extension
from src.connections.notify import log_event
from src.connections.queries import (
    FILTERS,
    PAGE_SIZE,
    ConnectionPage,
    Counts,
    connection_for,
    counts_for,
    list_page,
    one_row,
    shared_document,
    shared_documents,
)
from src.connections.reminders import send_reminders
from src.connections.rules import (
    ACTIVE,
    DEFAULT_DAYS,
    MAX_DAYS,
    OPEN_STATES,
    WAITING_LEARNER,
    WAITING_TP,
    Conflict,
    Refused,
    check_end_date,
    date_text,
    display_name,
    is_usable,
    usable_where,
)

__all__ = [
    "ACTIVE",
    "DEFAULT_DAYS",
    "FILTERS",
    "MAX_DAYS",
    "OPEN_STATES",
    "PAGE_SIZE",
    "WAITING_LEARNER",
    "WAITING_TP",
    "Conflict",
    "ConnectionPage",
    "Counts",
    "Refused",
    "accept_as_learner",
    "accept_as_third_party",
    "add_connection",
    "approve_extension",
    "attach_pending",
    "cancel",
    "change_documents",
    "check_end_date",
    "connection_for",
    "counts_for",
    "date_text",
    "decline",
    "decline_extension",
    "display_name",
    "extend",
    "is_usable",
    "list_page",
    "log_event",
    "one_row",
    "pending_extension",
    "request_extension",
    "send_reminders",
    "share",
    "shared_document",
    "shared_documents",
    "usable_where",
]
