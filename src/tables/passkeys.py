"""Passkeys (WebAuthn credentials) of an account: part of the Account aggregate, in a file of its own."""

from __future__ import annotations

from piccolo.columns import BigInt, Bytea, ForeignKey, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from src.tables.accounts import Account


class Passkey(Table):
    id: Serial  # added by Piccolo; declared for type checkers
    account = ForeignKey(references=Account, index=True)
    # The authenticator's credential id, base64url without padding (at most 1023 bytes: 1364 characters).
    credential_id = Varchar(length=1400, unique=True)
    # The WebAuthn user handle the authenticator keeps with a discoverable credential: random bytes,
    # the same for every passkey of an account (base64url), never the account id or an address.
    user_handle = Varchar(length=100)
    public_key = Bytea()  # COSE_Key, as the authenticator sent it
    # The authenticator's signature counter (unsigned 32 bits); 0 when it keeps none.
    sign_count = BigInt(default=0)
    name = Varchar(length=60)
    created_at = Timestamptz(default=TimestamptzNow())
    last_used_at = Timestamptz(null=True, default=None)
