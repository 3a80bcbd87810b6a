"""Document: one achievement document issued to a learner."""

from __future__ import annotations

from enum import Enum

from piccolo.columns import JSON, Boolean, Date, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from src.tables.accounts import Account


class DocumentStatus(str, Enum):
    valid = "valid"
    revoked = "revoked"
    superseded = "superseded"


class RevocationReason(str, Enum):
    issued_in_error = "issued_in_error"
    wrong_learner = "wrong_learner"
    wrong_qualification = "wrong_qualification"  # wrong qualification or unit
    claimed_before_completion = "claimed_before_completion"
    malpractice = "malpractice"
    other = "other"


class ImportBatch(Table):
    """One CSV upload by staff: checked (dry run), then confirmed once (every row or none)."""

    id: Serial  # added by Piccolo; declared for type checkers
    file_sha256 = Varchar(length=64, index=True)  # the same upload twice is flagged
    filename = Varchar(length=200, default="")
    rows = Integer(default=0)
    state = Varchar(length=12, default="checked")  # checked | confirmed
    created_by = ForeignKey(references=Account, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    confirmed_at = Timestamptz(null=True, default=None)
    # The checked upload itself (UTF-8 text), kept here between the dry run and the confirm so the
    # confirm writes exactly what was checked, never what a page sends back.
    csv_text = Text(default="")
    units_text = Text(default="")


class Document(Table):
    id: Serial  # added by Piccolo; declared for type checkers
    owner = ForeignKey(references=Account, index=True)
    kind = Varchar(length=40, default="certificate")  # certificate | qualification record | accreditation
    title = Varchar(length=200)
    qualification_code = Varchar(length=40, default="")
    level = Varchar(length=40, default="")
    name_as_printed = Varchar(length=200, default="")  # the learner's name as the document shows it
    grade = Varchar(length=60, default="")
    awarded_on = Date()
    # Indexed: the validity reminders and the "expiring soon" counts read a window of these days.
    valid_until = Date(null=True, default=None, index=True)
    certificate_number = Varchar(length=40, unique=True)
    # 80 random bits + a check character (src/documents/verify_codes.py), never derived from ids:
    # it is the whole key to the public verify page.
    verify_code = Varchar(length=40, unique=True)
    status = Varchar(length=12, choices=DocumentStatus, default=DocumentStatus.valid.value)
    revoked_category = Varchar(length=40, default="")  # a RevocationReason value
    revoked_reason = Text(default="")  # the public wording
    revoked_note = Text(default="")  # staff only, never shown to learners or the public
    revoked_at = Timestamptz(null=True, default=None)
    superseded_by: ForeignKey[Document] = ForeignKey(references="self", null=True, default=None)
    superseded_at = Timestamptz(null=True, default=None)
    show_on_verify = Boolean(default=False)
    # The frozen content snapshot (what the document says, units included), its SHA-256 over the
    # canonical JSON, and the version of the template that renders it.
    content = JSON(default="{}")
    content_sha256 = Varchar(length=64, default="")
    template_version = Integer(default=1)
    issued_by = ForeignKey(references=Account, null=True, default=None)
    import_batch = ForeignKey(references=ImportBatch, null=True, default=None)
    version = Integer(default=0)  # for compare-and-set on status changes
    created_at = Timestamptz(default=TimestamptzNow())  # issued at


class VerifyTally(Table):
    """How many times a document was checked on the public verify page, per day in the portal's time
    zone: one row per (document, day), incremented, so a burst of scans is one line of the
    learner's Activity. Nothing about who checked is kept. The unique (document, day) index is made
    by a raw-SQL migration (Piccolo columns only make single-column indexes)."""

    id: Serial  # added by Piccolo; declared for type checkers
    document = ForeignKey(references=Document)
    day = Date()
    checks = Integer(default=0)
    last_at = Timestamptz(default=TimestamptzNow())  # the latest check: where the line sorts
