"""Documents: their standing (the one status rule), reading them through their owner, issuing
them (one by one or from a CSV), staff actions on them, their verify codes, and the public check
of a code (the verify page, its API, and the address a QR code carries). Other code uses only the
names below."""

from src.documents.csv_import import (
    MAX_FILE_BYTES,
    MAX_ROWS,
    CheckResult,
    dry_run,
    errors_csv,
    recheck,
    template_csv,
)
from src.documents.import_confirm import Confirmed, confirm
from src.documents.import_view import RowsPage, rows_page
from src.documents.issuing import TEMPLATE_VERSION, issue, snapshot
from src.documents.linkedin import linkedin_url
from src.documents.queries import DOCUMENTS_PAGE, content_of, owned_by, page_owned_by, titles_owned_by
from src.documents.rows import (
    COLUMNS,
    KINDS,
    UNIT_COLUMNS,
    check_row,
    clean_text,
    parse_date,
    uln_is_valid,
    units_as_text,
    units_from_text,
)
from src.documents.staff_actions import REASONS, issue_one, revoke, supersede
from src.documents.staff_queries import STATUSES, DocumentPage, for_staff, history, record_staff_view, search
from src.documents.status import Standing, standing, verify_headline
from src.documents.validity import due_reminder, expiring_within, send_validity_reminders
from src.documents.verify import (
    FAILED_LOOKUP_LIMIT,
    FAILED_LOOKUP_REFILL_SECONDS,
    HTTP_STATUS,
    MAX_TYPED,
    Verdict,
    record_checks,
    set_shown_on_verify,
    verify,
)
from src.documents.verify_codes import check_character, is_well_formed, new_verify_code, normalise, printed
from src.documents.verify_links import verify_host, verify_url

__all__ = [
    "COLUMNS",
    "DOCUMENTS_PAGE",
    "FAILED_LOOKUP_LIMIT",
    "FAILED_LOOKUP_REFILL_SECONDS",
    "HTTP_STATUS",
    "KINDS",
    "MAX_FILE_BYTES",
    "MAX_ROWS",
    "MAX_TYPED",
    "REASONS",
    "STATUSES",
    "TEMPLATE_VERSION",
    "UNIT_COLUMNS",
    "CheckResult",
    "Confirmed",
    "DocumentPage",
    "RowsPage",
    "Standing",
    "Verdict",
    "check_character",
    "check_row",
    "clean_text",
    "confirm",
    "content_of",
    "dry_run",
    "due_reminder",
    "errors_csv",
    "expiring_within",
    "for_staff",
    "history",
    "is_well_formed",
    "issue",
    "issue_one",
    "linkedin_url",
    "new_verify_code",
    "normalise",
    "owned_by",
    "page_owned_by",
    "parse_date",
    "printed",
    "recheck",
    "record_checks",
    "record_staff_view",
    "revoke",
    "rows_page",
    "search",
    "send_validity_reminders",
    "set_shown_on_verify",
    "snapshot",
    "standing",
    "supersede",
    "template_csv",
    "titles_owned_by",
    "uln_is_valid",
    "units_as_text",
    "units_from_text",
    "verify",
    "verify_headline",
    "verify_host",
    "verify_url",
]
