"""Adding a passkey from Profile (the WebAuthn registration ceremony): options for the browser with
a challenge kept in the session, then the browser's answer checked and the passkey kept. What the
ceremonies share is in passkeys.py."""

from __future__ import annotations

import logging
import secrets
from typing import Any

from webauthn import generate_registration_options, options_to_json, verify_registration_response
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from src.accounts.notices import send_notice
from src.accounts.passkeys import (
    BAD_ANSWER,
    CHALLENGE_SECONDS,
    NOT_CHECKED,
    PASSKEY_ADD,
    RelyingParty,
    begin_ceremony,
    passkeys_of,
    read_credential,
)
from src.audit import AuditAction, record
from src.db import lock_row, unique_violation, write_transaction
from src.errors import Refused
from src.tables.accounts import Account
from src.tables.passkeys import Passkey

log = logging.getLogger("portal.passkeys")

MAX_PASSKEYS = 10


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
    begin_ceremony(session, PASSKEY_ADD, options.challenge, account.id, handle=handle)
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
    answer = read_credential(credential)
    try:
        verified = verify_registration_response(
            credential=answer,
            expected_challenge=base64url_to_bytes(ceremony["challenge"]),
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
        )
    except BAD_ANSWER as exc:
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
