"""Registration: a third party registers and verifies their address (learners are made by staff,
learners.py). The emails are written to the outbox in the same transaction as the change."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from src.accounts.claims import claim
from src.clock import utcnow
from src.db import unique_violation, write_transaction
from src.mail import enqueue, minute_key
from src.passwords import hash_password
from src.tables.accounts import Account, Role
from src.tokens import VERIFY_EMAIL_MAX_AGE, TokenError, Tokens

# What else happens when an address is proved to be the account's, in the same transaction (the
# route passes connections.attach_pending: requests waiting for the address become the account's).
# A callback, because connections sits above accounts and accounts never imports it.
OnVerified = Callable[[Account], Awaitable[None]]

# Says whether one more email may go to this address now (src.throttle.may_email, bound to the app's
# shared store): the forms anyone can send must not turn the portal into a mail bomb.
MayEmail = Callable[[str], Awaitable[bool]]


@dataclass
class NewAccount:
    role: Role
    username: str
    email: str
    first_name: str
    last_name: str
    middle_name: str = ""
    phone: str = ""
    company_name: str = ""
    job_title: str = ""
    date_of_birth: date | None = None
    password: str | None = None
    verified: bool = False


async def username_taken(username: str) -> bool:
    return await Account.username_in_use(username)


async def email_taken(email: str) -> bool:
    return await Account.email_in_use(email)


async def account_with_email(email: str) -> Account | None:
    return await Account.by_email(email)


async def create_account(new: NewAccount, password_hash: str | None = None) -> Account:
    """Insert an account and its claim on its address (inside the caller's transaction, or one of its
    own). Pass `password_hash` when it was computed beforehand, to keep the slow hash out of a write
    transaction."""
    if password_hash is None and new.password:
        password_hash = await hash_password(new.password)
    account = Account(
        role=new.role.value,
        username=new.username,
        username_key=new.username.lower(),
        email=new.email.lower(),
        password_hash=password_hash,
        password_changed_at=utcnow() if new.password else None,
        email_verified_at=utcnow() if new.verified else None,
        first_name=new.first_name,
        middle_name=new.middle_name,
        last_name=new.last_name,
        phone=new.phone,
        company_name=new.company_name,
        job_title=new.job_title,
        date_of_birth=new.date_of_birth,
    )
    async with write_transaction():
        await account.save()
        await claim(account.id, account.email)
    return account


def _verify_link(tokens: Tokens, account: Account) -> dict[str, Any]:
    token = tokens.sign("verify-email", {"a": account.id, "e": account.email})
    return {
        "first_name": account.first_name,
        "token": token,
        "hours": VERIFY_EMAIL_MAX_AGE // 3600,
    }


async def register(tokens: Tokens, new: NewAccount, may_email: MayEmail) -> None:
    """Register a third party. The page answers the same whatever happens, so it never tells whether
    a user name or an email address is in use: a known address gets a notice instead of a second
    account, and a taken user name is explained in an email to the registrant's address.

    The password is hashed first on every path: the answer takes as long either way, and the slow
    hash never runs while the write transaction holds the database."""
    password_hash = await hash_password(new.password or "")
    try:
        await _register(tokens, new, password_hash, may_email)
    except Exception as exc:
        # Lost a race to another registration: once it has committed, the checks see it.
        if unique_violation(exc) not in {"username_key", "email"}:
            raise
        await _register(tokens, new, password_hash, may_email)


async def _register(tokens: Tokens, new: NewAccount, password_hash: str, may_email: MayEmail) -> None:
    async with write_transaction():
        existing = await account_with_email(new.email)
        if existing is not None:
            # To the address typed, which is the account's main or second one.
            if await may_email(new.email.lower()):
                await enqueue(
                    new.email.lower(),
                    "already_registered",
                    {"first_name": existing.first_name},
                    f"already-registered:{existing.id}:{minute_key()}",
                )
            return
        if await username_taken(new.username):
            if await may_email(new.email):
                await enqueue(
                    new.email.lower(),
                    "username_taken",
                    {"first_name": new.first_name, "username": new.username},
                    f"username-taken:{new.email.lower()}:{minute_key()}",
                )
            return
        account = await create_account(new, password_hash)
        # Even the first link counts toward the address's hourly emails (a resend can follow later).
        if await may_email(account.email):
            await enqueue(
                account.email, "verify_email", _verify_link(tokens, account), f"verify:{account.id}:first"
            )


async def resend_verification(tokens: Tokens, email: str, may_email: MayEmail) -> None:
    async with write_transaction():
        account = await Account.by_email(email)
        if (
            account is not None
            and account.deleted_at is None
            and account.email_verified_at is None
            and account.password_hash
            and await may_email(account.email)
        ):
            await enqueue(
                account.email,
                "verify_email",
                _verify_link(tokens, account),
                f"verify:{account.id}:{minute_key()}",
            )


async def verify_email(tokens: Tokens, token: str, *, on_verified: OnVerified) -> Account:
    """Mark the address verified, then `on_verified`. Raises TokenError("expired" | "invalid" | "used")."""
    data = tokens.load("verify-email", token, max_age=VERIFY_EMAIL_MAX_AGE)
    async with write_transaction():
        account = await Account.by_id(data.get("a"))
        if account is None or account.email != data.get("e"):
            raise TokenError("invalid")
        if account.email_verified_at is not None:
            raise TokenError("used")
        await Account.update({Account.email_verified_at: utcnow()}).where(Account.id == account.id)
        await on_verified(account)
    return account
