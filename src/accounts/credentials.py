"""Credentials: emailed links that set a password (activation, reset) and setting a password,
which ends every other session of the account."""

from __future__ import annotations

from typing import Any

from src.accounts.login import find_by_login
from src.accounts.notices import notice_addresses, send_notice
from src.accounts.registration import MayEmail, OnVerified
from src.clock import utcnow
from src.db import write_transaction
from src.mail import enqueue, minute_key
from src.passwords import hash_password
from src.tables.accounts import Account
from src.tokens import ACTIVATE_MAX_AGE, RESET_PASSWORD_MAX_AGE, TokenError, Tokens, password_fingerprint


async def account_for_link(tokens: Tokens, purpose: str, token: str) -> Account:
    """The account a reset or activation link belongs to, while the link is still unused."""
    max_age = RESET_PASSWORD_MAX_AGE if purpose == "reset-password" else ACTIVATE_MAX_AGE
    data = tokens.load(purpose, token, max_age=max_age)
    account = await Account.by_id(data.get("a"))
    if account is None:
        raise TokenError("invalid")
    if data.get("f") != password_fingerprint(account.password_hash, account.last_login_at):
        raise TokenError("used")
    if purpose == "activate" and (account.password_hash or account.email != data.get("e")):
        raise TokenError("used")
    return account


async def request_password_reset(tokens: Tokens, identifier: str, may_email: MayEmail) -> None:
    """Email a reset link when the account exists; the page answers the same either way. The link goes
    to the address typed when it is one of the account's (main or second), else to the main one."""
    async with write_transaction():
        account = await find_by_login(identifier)
        typed = identifier.strip().lower()
        to = typed if account is not None and typed in notice_addresses(account) else None
        if account is None or not account.password_hash:
            return
        to = to or account.email
        if not await may_email(to):
            return
        fingerprint = password_fingerprint(account.password_hash, account.last_login_at)
        token = tokens.sign("reset-password", {"a": account.id, "f": fingerprint})
        await enqueue(
            to,
            "reset_password",
            {"first_name": account.first_name, "token": token, "minutes": 60},
            f"reset:{account.id}:{to}:{minute_key()}",
        )


async def set_password(account: Account, password: str, *, on_verified: OnVerified | None = None) -> int:
    """Set a new password, end every session of the account, and email a notice. With `on_verified`
    (an activation link, which proved the address) the address is verified too, then `on_verified`.

    Returns the new session epoch, so the caller can keep its own session alive."""
    new_hash = await hash_password(password)
    async with write_transaction():
        fresh = await Account.by_id(account.id, live=False)
        if fresh is None:
            raise TokenError("invalid")
        epoch = fresh.session_epoch + 1
        values: dict[Any, Any] = {
            Account.password_hash: new_hash,
            Account.password_changed_at: utcnow(),
            Account.session_epoch: epoch,
            Account.failed_logins: 0,
            Account.locked_until: None,
        }
        if on_verified is not None and fresh.email_verified_at is None:
            values[Account.email_verified_at] = utcnow()
        await Account.update(values).where(Account.id == account.id)
        if on_verified is not None:
            await on_verified(fresh)
        await send_notice(
            fresh,
            "password_changed",
            {"first_name": fresh.first_name},
            f"password-changed:{account.id}:{epoch}",
        )
    return epoch
