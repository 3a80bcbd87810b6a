"""Documents: their standing (the one status rule), reading them through their owner, issuing
them, their verify codes, and the public check of a code (the verify page, its API and QR
codes). Other code uses only the names below."""

from src.documents.issuing import TEMPLATE_VERSION, issue, snapshot
from src.documents.queries import content_of, owned_by
from src.documents.status import Standing, standing, verify_headline
from src.documents.verify import (
    CHECKED_ACTION,
    FAILED_LOOKUP_LIMIT,
    HTTP_STATUS,
    MAX_TYPED,
    Verdict,
    record_checks,
    set_shown_on_verify,
    verify,
)
from src.documents.verify_codes import is_well_formed, new_verify_code, normalise, printed
from src.documents.verify_links import qr_svg, verify_host, verify_url

__all__ = [
    "CHECKED_ACTION",
    "FAILED_LOOKUP_LIMIT",
    "HTTP_STATUS",
    "MAX_TYPED",
    "TEMPLATE_VERSION",
    "Standing",
    "Verdict",
    "content_of",
    "is_well_formed",
    "issue",
    "new_verify_code",
    "normalise",
    "owned_by",
    "printed",
    "qr_svg",
    "record_checks",
    "set_shown_on_verify",
    "snapshot",
    "standing",
    "verify",
    "verify_headline",
    "verify_host",
    "verify_url",
]
