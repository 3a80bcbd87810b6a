"""Passkeys (WebAuthn, with Duo Labs' `webauthn`): adding one from Profile, signing in with one
(without a password: discoverable credentials), listing and removing them.

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
import logging
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from litestar.stores.base import Store
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from src import clock, throttle
from src.accounts.notices import send_notice
from src.audit import AuditAction, record
from src.db import compare_and_set, lock_row, unique_violation, write_transaction
from src.errors import Refused
from src.tables.accounts import Account, Role
from src.tables.passkeys import Passkey

log = logging.getLogger("portal.passkeys")

CHALLENGE_SECONDS = 120  # how long the browser may take, and how long the server keeps the challenge
MAX_PASSKEYS = 10
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
UNKNOWN = "That passkey is not registered with your account here. It may have been removed."
COUNTER_BACK = (
    "That passkey's use counter went backwards, which happens when a passkey has been copied, "
    "so we refused it. Sign in another way and remove it from your profile."
)
LAST_STAFF_PASSKEY = (
    "Staff accounts must keep two-step sign-in: set up the authenticator app before removing your "
    "last passkey."
)
PASSKEY_NEEDS_SCRIPT = (
    "Adding or using a passkey needs JavaScript, which is off or blocked in this browser. "
    "Turn it on, or use another browser."
)
NO_VERIFICATION = (
    "Your device did not check that it is you (with a PIN, fingerprint or face), so the passkey "
    "alone cannot sign you in. Log in with your password instead."
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


def _begin(
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


def _credential(text: str) -> dict[str, Any]:
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


def _canonical_id(value: Any) -> str:
    """A credential id as we store it (base64url without padding), whatever padding it came with."""
    if not isinstance(value, str) or not value or len(value) > 1400:
        raise Refused(NOT_CHECKED, "passkey")
    try:
        return bytes_to_base64url(base64url_to_bytes(value))
    except ValueError:
        raise Refused(NOT_CHECKED, "passkey") from None


# Everything the library (or the bytes under it) raises for a malformed or forged answer.
_BAD_ANSWER = (WebAuthnException, ValueError, TypeError, KeyError, IndexError, RecursionError)


# --- adding a passkey -----------------------------------------------------------------------------


async def begin_adding_passkey(rp: RelyingParty, account: Account, session: dict[str, Any]) -> str:
    """Options for navigator.credentials.create() (JSON); the challenge is kept in the session."""
    existing = await passkeys_of(account)
    if len(existing) >= MAX_PASSKEYS:
        raise Refused(f"You can keep up to {MAX_PASSKEYS} passkeys. Remove one first.", "name")
    # One user handle per account: an authenticator then keeps one passkey per account here.
    handle = existing[0].user_handle if existing else bytes_to_base64url(secrets.token_bytes(32))
    full_name = " ".join(filter(None, (account.first_name, account.last_name)))
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_name=account.username,
        user_id=base64url_to_bytes(handle),
        user_display_name=full_name or account.username,
        timeout=CHALLENGE_SECONDS * 1000,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,  # discoverable: signs in with no user name
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id)) for p in existing
        ],
    )
    _begin(session, PASSKEY_ADD, options.challenge, account.id, handle=handle)
    return options_to_json(options)


async def add_passkey(
    rp: RelyingParty,
    account: Account,
    ceremony: dict[str, Any],
    credential: str,
    name: str,
) -> Passkey:
    """Check the browser's answer to `begin_adding_passkey` and keep the new passkey; the person is
    told at every notice address. Refused (field "passkey") when the answer does not hold."""
    answer = _credential(credential)
    try:
        verified = verify_registration_response(
            credential=answer,
            expected_challenge=base64url_to_bytes(ceremony["challenge"]),
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
        )
    except _BAD_ANSWER as exc:
        log.info("passkey registration refused for account %s: %s", account.id, exc)
        raise Refused(NOT_CHECKED, "passkey") from None
    passkey = Passkey(
        account=account.id,
        credential_id=bytes_to_base64url(verified.credential_id),
        user_handle=ceremony["handle"],
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        name=name,
    )
    try:
        async with write_transaction():
            await lock_row(Account, account.id)  # the count and the insert, one request at a time
            if await Passkey.count().where(Passkey.account == account.id) >= MAX_PASSKEYS:
                raise Refused(f"You can keep up to {MAX_PASSKEYS} passkeys. Remove one first.", "name")
            await passkey.save()
            await Account.update({Account.passkey_count: Account.passkey_count + 1}).where(
                Account.id == account.id
            )
            await send_notice(
                account,
                "passkey_added",
                {"first_name": account.first_name, "name": name},
                f"passkey-added:{passkey.id}",
            )
            await record(AuditAction.added_passkey, account, detail=name)
    except Exception as exc:
        if unique_violation(exc) is None:
            raise
        raise Refused("That passkey is already registered here.", "passkey") from None
    account.passkey_count += 1
    return passkey


# --- signing in with a passkey --------------------------------------------------------------------


async def begin_passkey_sign_in(
    rp: RelyingParty, session: dict[str, Any], purpose: str = PASSKEY_SIGN_IN, account_id: int | None = None
) -> str:
    """Options for navigator.credentials.get() (JSON). With `account_id` (a second step), only that
    account's passkeys are offered; without it the browser offers any passkey it holds for us."""
    allowed: list[PublicKeyCredentialDescriptor] = []
    if account_id is not None:
        ids = await Passkey.select(Passkey.credential_id).where(Passkey.account == account_id)
        allowed = [PublicKeyCredentialDescriptor(id=base64url_to_bytes(row["credential_id"])) for row in ids]
    options = generate_authentication_options(
        rp_id=rp.id,
        timeout=CHALLENGE_SECONDS * 1000,
        allow_credentials=allowed,
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    _begin(session, purpose, options.challenge, account_id)
    return options_to_json(options)


async def check_passkey(
    rp: RelyingParty,
    ceremony: dict[str, Any],
    credential: str,
    *,
    account_id: int | None = None,
    require_user_verification: bool,
) -> Account:
    """The live account whose passkey signed this challenge (and, with `account_id`, only that
    account's). Its counter and last use are moved forward by compare-and-set. Refused otherwise."""
    answer = _credential(credential)
    credential_id = _canonical_id(answer.get("rawId") or answer.get("id"))
    passkey = await Passkey.objects().where(Passkey.credential_id == credential_id).first()
    if passkey is None or (account_id is not None and passkey.account != account_id):
        raise Refused(UNKNOWN, "passkey")
    response = answer.get("response")
    handle = response.get("userHandle") if isinstance(response, dict) else None
    if handle and _canonical_id(handle) != passkey.user_handle:
        raise Refused(UNKNOWN, "passkey")
    owner = await Account.by_id(passkey.account)
    if owner is None:
        raise Refused(UNKNOWN, "passkey")
    try:
        verified = verify_authentication_response(
            credential=answer,
            expected_challenge=base64url_to_bytes(ceremony["challenge"]),
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=bytes(passkey.public_key),
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=require_user_verification,
        )
    except _BAD_ANSWER as exc:
        log.warning("passkey %s of account %s refused: %s", passkey.id, passkey.account, exc)
        reason = str(exc)
        if "sign count" in reason:
            raise Refused(COUNTER_BACK, "passkey") from None
        if "User verification is required" in reason:
            raise Refused(NO_VERIFICATION, "passkey") from None
        raise Refused(NOT_CHECKED, "passkey") from None
    moved = await compare_and_set(
        Passkey,
        passkey.id,
        {Passkey.sign_count: passkey.sign_count},
        {Passkey.sign_count: verified.new_sign_count, Passkey.last_used_at: clock.utcnow()},
    )
    if not moved:  # another answer of the same passkey got in first: its counter is ahead now
        raise Refused(COUNTER_BACK, "passkey")
    return owner
