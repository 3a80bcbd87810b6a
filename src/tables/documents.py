"""Document: one achievement document issued to a learner."""

from __future__ import annotations

from enum import Enum

from piccolo.columns import JSON, Boolean, Date, ForeignKey, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from src.tables.accounts import Account


class DocumentStatus(str, Enum):
    valid = "valid"
    revoked = "revoked"
    superseded = "superseded"


class Document(Table):
    id: Serial  # added by Piccolo; declared for type checkers
    owner = ForeignKey(references=Account, index=True)
    kind = Varchar(length=40, default="certificate")  # certificate | qualification record | accreditation
    title = Varchar(length=200)
    qualification_code = Varchar(length=40, default="")
    level = Varchar(length=40, default="")
    awarded_on = Date()
    valid_until = Date(null=True, default=None)
    certificate_number = Varchar(length=40, unique=True)
    # Random, at least 128 bits, never derived from ids: it is the whole key to the public verify page.
    verify_code = Varchar(length=40, unique=True)
    status = Varchar(length=12, choices=DocumentStatus, default=DocumentStatus.valid.value)
    revoked_reason = Text(default="")
    revoked_at = Timestamptz(null=True, default=None)
    superseded_by: ForeignKey[Document] = ForeignKey(references="self", null=True, default=None)
    show_on_verify = Boolean(default=False)
    content = JSON(default="{}")  # structured content: units, grades
    created_at = Timestamptz(default=TimestamptzNow())
