"""Passkeys (WebAuthn, with Duo Labs' `webauthn`): what both ceremonies share, and listing and
removing them. Adding one from Profile is passkey_registration.py; signing in with one (without a
password: discoverable credentials), as a second step or a step-up, is passkey_authentication.py.

A ceremony has two steps. First the server makes options with a fresh random challenge and keeps the
challenge in the person's server-side session (`begin_*`); then the browser's answer is checked
against it (`take_passkey_challenge`, then `add_passkey` or `check_passkey`). A challenge is good for
CHALLENGE_SECONDS and for one answer: it leaves the session when it is taken, and because parallel
requests carrying one session cookie all read the same session, the shared store (Redis or the file
store, `throttle.hit`) has the last word on which of them took it. The relying-party id is
BASE_URL's host and the origin must be BASE_URL's exactly; a sign counter that does not move forward
(when the authenticator keeps one) is refused, as a sign of a copied key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from litestar.stores.base import Store
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException

from src import clock, throttle
from src.audit import AuditAction, record
from src.db import lock_row, write_transaction
from src.errors import Refused
from src.tables.accounts import Account, Role
from src.tables.passkeys import Passkey

CHALLENGE_SECONDS = 120  # how long the browser may take, and how long the server keeps the challenge
MAX_CREDENTIAL_CHARS = 32_000  # a browser's answer with an attestation certificate chain fits easily
PASSKEY_CEREMONY = "passkey_ceremony"  # the session key holding the one open ceremony

# What a ceremony is for: a challenge begun for one purpose answers no other.
PASSKEY_ADD, PASSKEY_SIGN_IN, PASSKEY_SECOND_STEP, PASSKEY_STEP_UP = (
    "add",
    "sign_in",
    "second_step",
    "step_up",
)

PASSKEY_STALE = "That passkey request has expired or was already used. Try again."
NOT_CHECKED = "We could not check that passkey. Try again, or use another way to sign in."
LAST_STAFF_PASSKEY = (
    "Staff accounts must keep two-step sign-in: set up the authenticator app before removing your "
    "last passkey."
)
PASSKEY_NEEDS_SCRIPT = (
    "Adding or using a passkey needs JavaScript, which is off or blocked in this browser. "
    "Turn it on, or use another browser."
)


@dataclass(frozen=True)
class RelyingParty:
    """Who the passkeys are for: BASE_URL's host as the id, and its exact origin."""

    id: str
    name: str
    origin: str


def relying_party(base_url: str, org_name: str) -> RelyingParty:
    parts = urlsplit(base_url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    default_port = {"https": 443, "http": 80}.get(scheme)
    # An origin leaves out the scheme's default port, as browsers write it in clientDataJSON.
    port = f":{parts.port}" if parts.port and parts.port != default_port else ""
    return RelyingParty(id=host, name=org_name, origin=f"{scheme}://{host}{port}")


# --- reading and removing ---------------------------------------------------------------------------


async def passkeys_of(account: Account) -> list[Passkey]:
    return await Passkey.objects().where(Passkey.account == account.id).order_by(Passkey.id)


async def remove_passkey(account: Account, passkey_id: int) -> str | None:
    """Remove one of the account's passkeys and return its name; None when the account has no such
    passkey (someone else's answers the same: the caller says 404). Staff keep a second step: their
    last passkey goes only when they have the authenticator app."""
    async with write_transaction():
        if account.role == Role.staff.value and account.two_step_since is None:
            await lock_row(Account, account.id)  # two removals at once must not both pass the count
            if await Passkey.count().where(Passkey.account == account.id) <= 1:
                raise Refused(LAST_STAFF_PASSKEY)
        removed = (
            await Passkey.delete()
            .where((Passkey.id == passkey_id) & (Passkey.account == account.id))
            .returning(Passkey.name)
        )
        if not removed:
            return None
        await Account.update({Account.passkey_count: Account.passkey_count - 1}).where(
            Account.id == account.id
        )
        name: str = removed[0]["name"]
        await record(AuditAction.removed_passkey, account, detail=name)
    account.passkey_count -= 1
    return name


async def remove_all_passkeys(account_id: int) -> None:
    """Inside the caller's transaction: every passkey of the account (deletion, a reset by staff)."""
    await Passkey.delete().where(Passkey.account == account_id)
    await Account.update({Account.passkey_count: 0}).where(Account.id == account_id)


# --- the ceremony's challenge ----------------------------------------------------------------------


def begin_ceremony(
    session: dict[str, Any], purpose: str, challenge: bytes, account_id: int | None, **extra: Any
) -> None:
    session[PASSKEY_CEREMONY] = {
        "purpose": purpose,
        "challenge": bytes_to_base64url(challenge),
        "account": account_id,
        "issued": clock.seconds(),
        **extra,
    }


async def take_passkey_challenge(
    session: dict[str, Any], store: Store, purpose: str, account_id: int | None = None
) -> dict[str, Any]:
    """The open ceremony of this purpose (and account), taken out of the session for good: once only,
    and only while it is fresh. Refused otherwise (expired, used, or begun for something else)."""
    ceremony = session.pop(PASSKEY_CEREMONY, None)
    if (
        not isinstance(ceremony, dict)
        or ceremony.get("purpose") != purpose
        or ceremony.get("account") != account_id
        or clock.seconds() - float(ceremony.get("issued", 0)) > CHALLENGE_SECONDS
    ):
        raise Refused(PASSKEY_STALE, "passkey")
    # Requests racing with the same session all found it there: the first to count it takes it.
    if await throttle.hit(store, f"passkey-challenge:{ceremony['challenge']}", 2 * CHALLENGE_SECONDS) != 1:
        raise Refused(PASSKEY_STALE, "passkey")
    return ceremony


def read_credential(text: str) -> dict[str, Any]:
    """The browser's answer as JSON, bounded in size and depth; refused when it is anything else."""
    if not text or len(text) > MAX_CREDENTIAL_CHARS:
        raise Refused(NOT_CHECKED, "passkey")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise Refused(NOT_CHECKED, "passkey") from None
    if not isinstance(value, dict):
        raise Refused(NOT_CHECKED, "passkey")
    return value


def canonical_id(value: Any) -> str:
    """A credential id as we store it (base64url without padding), whatever padding it came with."""
    if not isinstance(value, str) or not value or len(value) > 1400:
        raise Refused(NOT_CHECKED, "passkey")
    try:
        return bytes_to_base64url(base64url_to_bytes(value))
    except ValueError:
        raise Refused(NOT_CHECKED, "passkey") from None


# Everything the library (or the bytes under it) raises for a malformed or forged answer.
BAD_ANSWER = (WebAuthnException, ValueError, TypeError, KeyError, IndexError, RecursionError)
