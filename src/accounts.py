"""Account rules in one place: registration, verification, log-in, passwords, deletion.

Handlers, the command line, demo data and tests all call these; the emails each rule causes are
written to the outbox in the same transaction as the change.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from src import outbox
from src.connection_actions import attach_pending
from src.db import write_transaction
from src.passwords import hash_password, verify_password
from src.tables.accounts import Account, Address, ContactDetail, Role
from src.tokens import (
    ACTIVATE_MAX_AGE,
    RESET_PASSWORD_MAX_AGE,
    VERIFY_EMAIL_MAX_AGE,
    TokenError,
    Tokens,
    password_fingerprint,
)

LOCK_AFTER = 5  # consecutive failed log-ins before the account is locked for a while
LOCK_MAX = timedelta(hours=1)


def now() -> datetime:
    return datetime.now(UTC)


def minute_key() -> str:
    """Part of an idempotency key: a double click within a minute queues one email, not two."""
    return now().strftime("%Y%m%d%H%M")


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
    return bool(await Account.exists().where(Account.username_key == username.lower()))


async def email_taken(email: str) -> bool:
    return bool(await Account.exists().where(Account.email == email.lower()))


async def account_with_email(email: str) -> Account | None:
    return await Account.objects().where(Account.email == email.lower()).first()


async def find_by_login(identifier: str) -> Account | None:
    key = identifier.strip().lower()
    column = Account.email if "@" in key else Account.username_key
    return await Account.objects().where((column == key) & (Account.deleted_at.is_null())).first()


async def create_account(new: NewAccount, password_hash: str | None = None) -> Account:
    """Insert an account (inside the caller's transaction when there is one). Pass `password_hash`
    when it was computed beforehand, to keep the slow hash out of a write transaction."""
    if password_hash is None and new.password:
        password_hash = await hash_password(new.password)
    account = Account(
        role=new.role.value,
        username=new.username,
        username_key=new.username.lower(),
        email=new.email.lower(),
        password_hash=password_hash,
        password_changed_at=now() if new.password else None,
        email_verified_at=now() if new.verified else None,
        first_name=new.first_name,
        middle_name=new.middle_name,
        last_name=new.last_name,
        phone=new.phone,
        company_name=new.company_name,
        job_title=new.job_title,
        date_of_birth=new.date_of_birth,
    )
    await account.save()
    return account


def _verify_link(tokens: Tokens, account: Account) -> dict[str, Any]:
    token = tokens.sign("verify-email", {"a": account.id, "e": account.email})
    return {
        "first_name": account.first_name,
        "path": f"/verify-email/{token}",
        "hours": VERIFY_EMAIL_MAX_AGE // 3600,
    }


async def register(tokens: Tokens, new: NewAccount) -> None:
    """Register a third party. An email already in use gets a notice instead of a second account,
    so the page answers the same whether or not the address is known.

    The password is hashed first on both paths: the answer takes as long either way, and the slow
    hash never runs while the write transaction holds the database."""
    password_hash = await hash_password(new.password or "")
    async with write_transaction():
        existing = await account_with_email(new.email)
        if existing is not None:
            await outbox.enqueue(
                existing.email,
                "already_registered",
                {"first_name": existing.first_name},
                f"already-registered:{existing.id}:{minute_key()}",
            )
            return
        account = await create_account(new, password_hash)
        await outbox.enqueue(
            account.email, "verify_email", _verify_link(tokens, account), f"verify:{account.id}:first"
        )


async def resend_verification(tokens: Tokens, email: str) -> None:
    async with write_transaction():
        account = (
            await Account.objects()
            .where(
                (Account.email == email.lower())
                & Account.deleted_at.is_null()
                & Account.email_verified_at.is_null()
            )
            .first()
        )
        if account is not None and account.password_hash:
            await outbox.enqueue(
                account.email,
                "verify_email",
                _verify_link(tokens, account),
                f"verify:{account.id}:{minute_key()}",
            )


async def verify_email(tokens: Tokens, token: str) -> Account:
    """Mark the address verified. Raises TokenError("expired" | "invalid" | "used")."""
    data = tokens.load("verify-email", token, max_age=VERIFY_EMAIL_MAX_AGE)
    async with write_transaction():
        account = (
            await Account.objects()
            .where(
                (Account.id == data.get("a"))
                & (Account.email == data.get("e"))
                & Account.deleted_at.is_null()
            )
            .first()
        )
        if account is None:
            raise TokenError("invalid")
        if account.email_verified_at is not None:
            raise TokenError("used")
        await Account.update({Account.email_verified_at: now()}).where(Account.id == account.id)
        await attach_pending(account)  # connections waiting for this address become theirs
    return account


def activation_link(tokens: Tokens, account: Account) -> str:
    fingerprint = password_fingerprint(account.password_hash, account.last_login_at)
    return "/activate/" + tokens.sign("activate", {"a": account.id, "e": account.email, "f": fingerprint})


async def account_for_link(tokens: Tokens, purpose: str, token: str) -> Account:
    """The account a reset or activation link belongs to, while the link is still unused."""
    max_age = RESET_PASSWORD_MAX_AGE if purpose == "reset-password" else ACTIVATE_MAX_AGE
    data = tokens.load(purpose, token, max_age=max_age)
    account = (
        await Account.objects().where((Account.id == data.get("a")) & Account.deleted_at.is_null()).first()
    )
    if account is None:
        raise TokenError("invalid")
    if data.get("f") != password_fingerprint(account.password_hash, account.last_login_at):
        raise TokenError("used")
    if purpose == "activate" and (account.password_hash or account.email != data.get("e")):
        raise TokenError("used")
    return account


async def request_password_reset(tokens: Tokens, identifier: str) -> None:
    """Email a reset link when the account exists; the page answers the same either way."""
    async with write_transaction():
        account = await find_by_login(identifier)
        if account is None or not account.password_hash:
            return
        fingerprint = password_fingerprint(account.password_hash, account.last_login_at)
        token = tokens.sign("reset-password", {"a": account.id, "f": fingerprint})
        await outbox.enqueue(
            account.email,
            "reset_password",
            {"first_name": account.first_name, "path": f"/reset-password/{token}", "minutes": 60},
            f"reset:{account.id}:{minute_key()}",
        )


async def set_password(account: Account, password: str, *, verify_email_too: bool = False) -> int:
    """Set a new password, end every session of the account, and email a notice.

    Returns the new session epoch, so the caller can keep its own session alive."""
    new_hash = await hash_password(password)
    async with write_transaction():
        fresh = await Account.objects().where(Account.id == account.id).first()
        if fresh is None:
            raise TokenError("invalid")
        epoch = fresh.session_epoch + 1
        values: dict[Any, Any] = {
            Account.password_hash: new_hash,
            Account.password_changed_at: now(),
            Account.session_epoch: epoch,
            Account.failed_logins: 0,
            Account.locked_until: None,
        }
        if verify_email_too and fresh.email_verified_at is None:
            values[Account.email_verified_at] = now()
        await Account.update(values).where(Account.id == account.id)
        if verify_email_too:
            await attach_pending(fresh)
        await outbox.enqueue(
            fresh.email,
            "password_changed",
            {"first_name": fresh.first_name},
            f"password-changed:{account.id}:{epoch}",
        )
    return epoch


@dataclass
class LoginResult:
    account: Account | None = None
    problem: str | None = None  # "wrong" | "locked" | "unverified"
    retry_minutes: int = 0


async def check_login(identifier: str, password: str) -> LoginResult:
    account = await find_by_login(identifier)
    if account is not None and account.locked_until and account.locked_until > now():
        minutes = max(1, int((account.locked_until - now()).total_seconds() // 60) + 1)
        return LoginResult(problem="locked", retry_minutes=minutes)
    ok = await verify_password(account.password_hash if account else None, password)
    if account is None:
        return LoginResult(problem="wrong")
    if not ok:
        failures = account.failed_logins + 1
        locked_until = None
        if failures >= LOCK_AFTER:
            locked_until = now() + min(timedelta(minutes=2 ** (failures - LOCK_AFTER)), LOCK_MAX)
        await Account.update({Account.failed_logins: failures, Account.locked_until: locked_until}).where(
            Account.id == account.id
        )
        return LoginResult(problem="wrong")
    if account.email_verified_at is None:
        return LoginResult(problem="unverified")
    await Account.update(
        {Account.failed_logins: 0, Account.locked_until: None, Account.last_login_at: now()}
    ).where(Account.id == account.id)
    return LoginResult(account=account)


async def delete_account(account: Account) -> None:
    """Self-service deletion: personal details are erased at once; the row stays, emptied, so that
    records others rely on (documents issued, who viewed what) still make sense."""
    async with write_transaction():
        await ContactDetail.delete().where(ContactDetail.account == account.id)
        await Address.delete().where(Address.account == account.id)
        placeholder = f"deleted-{account.id}-{secrets.token_hex(4)}"
        await Account.update(
            {
                Account.username: placeholder,
                Account.username_key: placeholder,
                Account.email: f"{placeholder}@deleted.invalid",
                Account.password_hash: None,
                Account.first_name: "Deleted",
                Account.middle_name: "",
                Account.last_name: "account",
                Account.phone: "",
                Account.company_name: "",
                Account.job_title: "",
                Account.date_of_birth: None,
                Account.session_epoch: account.session_epoch + 1,
                Account.deleted_at: now(),
            }
        ).where(Account.id == account.id)
        await outbox.enqueue(
            account.email,
            "account_deleted",
            {"first_name": account.first_name},
            f"account-deleted:{account.id}",
        )
