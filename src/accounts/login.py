"""Log-in and lock-out: a log-in by user name or email, counted per account in the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from src.clock import utcnow
from src.passwords import verify_password
from src.tables.accounts import Account

LOCK_AFTER = 5  # consecutive failed log-ins before the account is locked for a while
LOCK_MAX = timedelta(hours=1)


async def find_by_login(identifier: str) -> Account | None:
    key = identifier.strip().lower()
    column = Account.email if "@" in key else Account.username_key
    return await Account.objects().where((column == key) & (Account.deleted_at.is_null())).first()


@dataclass
class LoginResult:
    account: Account | None = None
    problem: str | None = None  # "wrong" | "locked" | "unverified"
    retry_minutes: int = 0


async def check_login(identifier: str, password: str) -> LoginResult:
    account = await find_by_login(identifier)
    if account is not None and account.locked_until and account.locked_until > utcnow():
        minutes = max(1, int((account.locked_until - utcnow()).total_seconds() // 60) + 1)
        return LoginResult(problem="locked", retry_minutes=minutes)
    ok = await verify_password(account.password_hash if account else None, password)
    if account is None:
        return LoginResult(problem="wrong")
    if not ok:
        failures = account.failed_logins + 1
        locked_until = None
        if failures >= LOCK_AFTER:
            locked_until = utcnow() + min(timedelta(minutes=2 ** (failures - LOCK_AFTER)), LOCK_MAX)
        await Account.update({Account.failed_logins: failures, Account.locked_until: locked_until}).where(
            Account.id == account.id
        )
        return LoginResult(problem="wrong")
    if account.email_verified_at is None:
        return LoginResult(problem="unverified")
    await Account.update(
        {Account.failed_logins: 0, Account.locked_until: None, Account.last_login_at: utcnow()}
    ).where(Account.id == account.id)
    return LoginResult(account=account)
