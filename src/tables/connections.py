"""The Connection aggregate: a learner and a third party, the documents shared between them,
requests for more time, and the audit trail of what happened."""

from __future__ import annotations

from enum import Enum

from piccolo.columns import Date, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from src.tables.accounts import Account
from src.tables.documents import Document


class ConnectionState(str, Enum):
    awaiting_third_party = "awaiting_third_party"  # the learner asked
    awaiting_learner = "awaiting_learner"  # the third party asked
    active = "active"
    declined = "declined"
    cancelled = "cancelled"


class Connection(Table):
    id: Serial  # added by Piccolo; declared for type checkers
    # Either side may not have an account yet: then only its email is known, and the account is
    # attached when someone verifies that address.
    learner = ForeignKey(references=Account, null=True, default=None, index=True)
    learner_email = Varchar(length=254, default="", index=True)
    third_party = ForeignKey(references=Account, null=True, default=None, index=True)
    third_party_email = Varchar(length=254, default="", index=True)
    started_by = Varchar(length=12)  # learner | third_party
    state = Varchar(length=24, choices=ConnectionState, index=True)
    expires_on = Date(null=True, default=None, index=True)
    version = Integer(default=1)  # compare-and-set: every change is WHERE id, state, version
    cancelled_by = ForeignKey(references=Account, null=True, default=None)
    message = Text(default="")
    # "learner_email third_party_email" while the connection is open (waiting, or active and not yet
    # past its end day), NULL once it is not: the unique index makes a second open connection between
    # the same two people impossible, however many requests race. Cleared on decline and cancel, and
    # for an ended connection by the next share or request between the two. The unique index is made
    # by a raw-SQL migration: SQLite cannot add a UNIQUE column to an existing table.
    open_pair = Varchar(length=520, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class SharedDocument(Table):
    id: Serial  # added by Piccolo; declared for type checkers
    connection = ForeignKey(references=Connection, index=True)
    document = ForeignKey(references=Document, index=True)


class ExtensionState(str, Enum):
    pending = "pending"
    approved = "approved"
    declined = "declined"
    withdrawn = "withdrawn"


class ExtensionRequest(Table):
    id: Serial  # added by Piccolo; declared for type checkers
    connection = ForeignKey(references=Connection, index=True)
    requested_by = ForeignKey(references=Account)
    wanted_until = Date()
    message = Text(default="")
    state = Varchar(length=12, choices=ExtensionState, default=ExtensionState.pending.value, index=True)
    decided_at = Timestamptz(null=True, default=None)
    new_expiry = Date(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class AccessEvent(Table):
    id: Serial  # added by Piccolo; declared for type checkers
    account = ForeignKey(references=Account, null=True, default=None, index=True)  # who did it
    action = Varchar(length=40)  # a src.audit.AuditAction value (written only through src/audit.py)
    connection = ForeignKey(references=Connection, null=True, default=None, index=True)
    document = ForeignKey(references=Document, null=True, default=None)
    detail = Varchar(length=200, default="")
    at = Timestamptz(default=TimestamptzNow(), index=True)
