"""Connections between a learner and a third party: the rules, reading them, the actions that
change them (each a compare-and-set with its emails and AccessEvent), extension requests, and the
reminder job. Other code uses only the names below; the modules inside are private."""

from src.connections.actions import (
    accept_as_learner,
    accept_as_third_party,
    cancel,
    change_documents,
    decline,
    extend,
)
from src.connections.activity import (
    ActivityPage,
    activity_page,
    record_document_viewed,
    record_documents_listed,
)
from src.connections.counts import Counts, counts_for
from src.connections.expiring import EXPIRING_DAYS, ExpiringPage, expiring_count, expiring_page
from src.connections.extensions import approve as approve_extension
from src.connections.extensions import decline as decline_extension
from src.connections.extensions import pending_for as pending_extension
from src.connections.extensions import request_extension
from src.connections.forms import (
    AcceptForm,
    AddForm,
    ExtensionForm,
    ShareForm,
    check_accept,
    check_add_connection,
    check_extension_request,
    check_new_date,
    check_share,
    place_refusal,
)
from src.connections.listing import FILTERS, PAGE_SIZE, ConnectionPage, list_page, one_row
from src.connections.opening import add_connection, attach_pending, share
from src.connections.queries import connection_for, shared_document, shared_documents
from src.connections.reminders import send_reminders
from src.connections.rules import (
    ACTIVE,
    DEFAULT_DAYS,
    MAX_DAYS,
    OPEN_STATES,
    WAITING_LEARNER,
    WAITING_TP,
    check_end_date,
    display_name,
    is_usable,
    usable_where,
)
from src.connections.views import (
    VerifyChecks,
    ViewsPage,
    send_weekly_views,
    verify_checks,
    views_by,
    views_page,
    week_before,
)
from src.connections.words import access_words, other_name, row_words, state_words

__all__ = [
    "ACTIVE",
    "DEFAULT_DAYS",
    "EXPIRING_DAYS",
    "FILTERS",
    "MAX_DAYS",
    "OPEN_STATES",
    "PAGE_SIZE",
    "WAITING_LEARNER",
    "WAITING_TP",
    "AcceptForm",
    "ActivityPage",
    "AddForm",
    "ConnectionPage",
    "Counts",
    "ExpiringPage",
    "ExtensionForm",
    "ShareForm",
    "VerifyChecks",
    "ViewsPage",
    "accept_as_learner",
    "accept_as_third_party",
    "access_words",
    "activity_page",
    "add_connection",
    "approve_extension",
    "attach_pending",
    "cancel",
    "change_documents",
    "check_accept",
    "check_add_connection",
    "check_end_date",
    "check_extension_request",
    "check_new_date",
    "check_share",
    "connection_for",
    "counts_for",
    "decline",
    "decline_extension",
    "display_name",
    "expiring_count",
    "expiring_page",
    "extend",
    "is_usable",
    "list_page",
    "one_row",
    "other_name",
    "pending_extension",
    "place_refusal",
    "record_document_viewed",
    "record_documents_listed",
    "request_extension",
    "row_words",
    "send_reminders",
    "send_weekly_views",
    "share",
    "shared_document",
    "shared_documents",
    "state_words",
    "usable_where",
    "verify_checks",
    "views_by",
    "views_page",
    "week_before",
]
