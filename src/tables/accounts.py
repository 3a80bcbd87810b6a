"""The Account aggregate: a person who logs in, with extra contact details and postal addresses."""

from __future__ import annotations

from enum import Enum

from piccolo.columns import (
    BigInt,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Serial,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Role(str, Enum):
    learner = "learner"
    third_party = "third_party"
    staff = "staff"


class Account(Table):
    id: Serial  # added by Piccolo; declared for type checkers
    role = Varchar(length=20, choices=Role, index=True)
    username = Varchar(length=40)
    # Case-insensitive uniqueness: the lower-cased copies carry the unique indexes.
    username_key = Varchar(length=40, unique=True)
    email = Varchar(length=254, unique=True)
    password_hash = Varchar(length=255, null=True, default=None)
    email_verified_at = Timestamptz(null=True, default=None)
    first_name = Varchar(length=100)
    middle_name = Varchar(length=100, default="")
    last_name = Varchar(length=100)
    phone = Varchar(length=40, default="")
    company_name = Varchar(length=200, default="")
    job_title = Varchar(length=200, default="")
    date_of_birth = Date(null=True, default=None)
    # The awarding body's learner reference and the Unique Learner Number: set by staff or a CSV import.
    enrolment_number = Varchar(length=40, default="")
    uln = Varchar(length=10, default="")
    # A learner's choice: a weekly email counting the views of their documents (off until asked for).
    weekly_views_email = Boolean(default=False)
    # An email change waiting for the new address to confirm it. The links to confirm it (sent to
    # the new address) and to stop it (sent to the old one) are valid only while this holds their
    # address, so each works once and stopping kills the other.
    pending_email = Varchar(length=254, null=True, default=None)
    # A second address (confirmed, like the main one, by a link sent to it): the person signs in
    # and resets the password with either, and security notices go to both. While it waits for its
    # link it is `pending_second_email`, which the link must still hold to work. Unique through its
    # EmailAddress row (an address is one account's, main or second), indexed here for log-ins.
    second_email = Varchar(length=254, null=True, default=None, index=True)
    pending_second_email = Varchar(length=254, null=True, default=None)
    failed_logins = Integer(default=0)
    locked_until = Timestamptz(null=True, default=None)
    # Bumped when every session of the account must end (password change, reset, deletion).
    session_epoch = Integer(default=0)
    password_changed_at = Timestamptz(null=True, default=None)
    # Two-step sign-in is on since then (None: off). Read with the account on every request, so the
    # staff pages can refuse an account without it at no extra query.
    two_step_since = Timestamptz(null=True, default=None)
    # The dashboard's one suggestion to turn two-step sign-in on was dismissed.
    two_step_hint_dismissed = Boolean(default=False)
    # How many passkeys the account has (kept with them, in their transactions): read with the account,
    # so that a staff account whose second step is a passkey reaches the staff pages at no extra query.
    passkey_count = Integer(default=0)
    last_login_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    deleted_at = Timestamptz(null=True, default=None)

    # The ways an account is read, named once. A deleted account keeps its row (emptied, with a
    # placeholder address), so "live" leaves it out where a person is looked for.
    @classmethod
    async def by_id(cls, account_id: int | None, *, live: bool = True) -> Account | None:
        if account_id is None:
            return None
        query = cls.objects().where(cls.id == account_id)
        if live:
            query = query.where(cls.deleted_at.is_null())
        return await query.first()

    @classmethod
    async def by_email(cls, email: str) -> Account | None:
        """The account with this address as its main or second one, whatever its case (addresses
        are stored lower case)."""
        key = email.lower()
        return await cls.objects().where((cls.email == key) | (cls.second_email == key)).first()

    @classmethod
    async def by_login(cls, identifier: str) -> Account | None:
        """The live account a log-in names, by email address (it has an @: main or second) or user name."""
        key = identifier.strip().lower()
        names = (cls.email == key) | (cls.second_email == key) if "@" in key else cls.username_key == key
        return await cls.objects().where(names & cls.deleted_at.is_null()).first()

    @classmethod
    async def newest(cls, role: Role, limit: int) -> list[Account]:
        """The live accounts of a role, newest first."""
        query = cls.objects().where((cls.role == role.value) & cls.deleted_at.is_null())
        return await query.order_by(cls.id, ascending=False).limit(limit)

    @classmethod
    async def username_in_use(cls, username: str) -> bool:
        return bool(await cls.exists().where(cls.username_key == username.lower()))

    @classmethod
    async def email_in_use(cls, email: str) -> bool:
        key = email.lower()
        return bool(await cls.exists().where((cls.email == key) | (cls.second_email == key)))


class EmailAddress(Table):
    """Every address an account holds, its main one and its second one: the one unique index that
    makes an address belong to one account only, whichever column of Account holds it. Written in
    the same transaction as the Account column it guards (accounts/claims.py)."""

    id: Serial  # added by Piccolo; declared for type checkers
    email = Varchar(length=254, unique=True)
    account = ForeignKey(references=Account, index=True)
    # Since when the account holds it: a download of the person's data lists the emails sent to the
    # address from then on, never those sent to someone who held it before.
    claimed_at = Timestamptz(default=TimestamptzNow())


class Authenticator(Table):
    """An authenticator app's key (TOTP, RFC 6238): one per account, in use once `confirmed_at` is set."""

    id: Serial  # added by Piccolo; declared for type checkers
    account = ForeignKey(references=Account, unique=True)
    # The base32 key sealed with a key derived from SECRET_KEYS (src.tokens.Tokens.seal): never in clear.
    sealed_key = Varchar(length=255)
    # The time step (Unix time // 30) of the last code accepted: moved forward by compare-and-set only,
    # so a code works once.
    last_step = BigInt(null=True, default=None)
    confirmed_at = Timestamptz(null=True, default=None)
    # A new phone's key, sealed likewise, waiting for its first code to take the place of the key above.
    pending_sealed_key = Varchar(length=255, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class RecoveryCode(Table):
    """One of an account's ten one-use recovery codes, stored as a SHA-256 of the code (80 random bits)."""

    id: Serial  # added by Piccolo; declared for type checkers
    account = ForeignKey(references=Account, index=True)
    code_hash = Varchar(length=64, unique=True)
    used_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class ContactKind(str, Enum):
    phone = "phone"
    email = "email"


class ContactDetail(Table):
    id: Serial  # added by Piccolo; declared for type checkers
    account = ForeignKey(references=Account, index=True)
    kind = Varchar(length=20, choices=ContactKind)
    value = Varchar(length=254)
    label = Varchar(length=60, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class Address(Table):
    id: Serial  # added by Piccolo; declared for type checkers
    account = ForeignKey(references=Account, index=True)
    line1 = Varchar(length=200)
    line2 = Varchar(length=200, default="")
    town = Varchar(length=100)
    postcode = Varchar(length=20)
    country = Varchar(length=100, default="United Kingdom")
    is_billing = Boolean(default=False)
    is_delivery = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())
