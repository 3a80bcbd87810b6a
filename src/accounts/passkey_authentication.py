"""Using a passkey (the WebAuthn authentication ceremony): to sign in without a password (the
browser offers any passkey it holds for us), as the second step of a log-in, or as a step-up (only
the account's own passkeys). What the ceremonies share is in passkeys.py."""

from __future__ import annotations

import logging
from typing import Any

from webauthn import generate_authentication_options, options_to_json, verify_authentication_response
from webauthn.helpers import base64url_to_bytes
from webauthn.helpers.structs import PublicKeyCredentialDescriptor, UserVerificationRequirement

from src import clock
from src.accounts.passkeys import (
    BAD_ANSWER,
    CHALLENGE_SECONDS,
    NOT_CHECKED,
    PASSKEY_SIGN_IN,
    RelyingParty,
    begin_ceremony,
    canonical_id,
    read_credential,
)
from src.db import compare_and_set
from src.errors import Refused
from src.tables.accounts import Account
from src.tables.passkeys import Passkey

log = logging.getLogger("portal.passkeys")

UNKNOWN = "That passkey is not registered with your account here. It may have been removed."
COUNTER_BACK = (
    "That passkey's use counter went backwards, which happens when a passkey has been copied, "
    "so we refused it. Sign in another way and remove it from your profile."
)
NO_VERIFICATION = (
    "Your device did not check that it is you (with a PIN, fingerprint or face), so the passkey "
    "alone cannot sign you in. Log in with your password instead."
)


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
    begin_ceremony(session, purpose, options.challenge, account_id)
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
    answer = read_credential(credential)
    credential_id = canonical_id(answer.get("rawId") or answer.get("id"))
    passkey = await Passkey.objects().where(Passkey.credential_id == credential_id).first()
    if passkey is None or (account_id is not None and passkey.account != account_id):
        raise Refused(UNKNOWN, "passkey")
    response = answer.get("response")
    handle = response.get("userHandle") if isinstance(response, dict) else None
    if handle and canonical_id(handle) != passkey.user_handle:
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
    except BAD_ANSWER as exc:
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
