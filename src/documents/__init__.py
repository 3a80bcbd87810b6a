"""Documents: their standing (the one status rule), reading them through their owner, issuing
them, and their verify codes. Other code uses only the names below."""

from src.documents.issuing import TEMPLATE_VERSION, issue, snapshot
from src.documents.queries import content_of, owned_by
from src.documents.status import Standing, standing
from src.documents.verify_codes import is_well_formed, new_verify_code, normalise, printed

__all__ = [
    "TEMPLATE_VERSION",
    "Standing",
    "content_of",
    "is_well_formed",
    "issue",
    "new_verify_code",
    "normalise",
    "owned_by",
    "printed",
    "snapshot",
    "standing",
]
