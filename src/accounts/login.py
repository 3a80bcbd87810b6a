"""Log-in and lock-out: a log-in by user name or email, counted per account in the database.

Every attempt on a known account is counted BEFORE the password is hashed, in one atomic
`UPDATE … SET failed_logins = failed_logins + 1 … RETURNING`: thirty simultaneous guesses get thirty
different counts, so at most LOCK_AFTER of them are ever checked. A correct password resets the count
(from a browser that is not a known device: see below).
Past LOCK_AFTER the account is locked for a while (doubling, at most an hour); when a lock runs
out, one more attempt is allowed, claimed by compare-and-set on `locked_until` so that only one of
many racing requests gets it. The same count covers the current password asked for by
change-password and delete-account (`check_current_password`).

An attempt takes its turn in the password-hashing pool before it is counted: one refused for
capacity (HashingBusy, 429) is not a failed attempt, and every counted attempt is checked. A browser
with a device cookie for the account (src/accounts/devices.py) is counted on its own and not held to
the account's count, so strangers' guesses cannot lock the owner out of a browser they used before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from src.accounts.devices import LOCK_SECONDS, Device
from src.clock import utcnow
from src.db import compare_and_set
from src.passwords import hashing_turn, verify_password
from src.tables.accounts import Account

LOCK_AFTER = 5  # consecutive failed log-ins before the account is locked for a while
LOCK_MAX = timedelta(hours=1)
# Said when the current password is asked for a sensitive change and the account is paused.
LOCKED = (
    "Too many wrong passwords: your account is paused for a while. "
    "Try again later, or log out and reset your password"
)


async def find_by_login(identifier: str) -> Account | None:
    return await Account.by_login(identifier)


@dataclass
class LoginResult:
    account: Account | None = None
    # "wrong" (also for a locked or unknown account: the answers must not differ) | "unverified"
    problem: str | None = None
    locked: bool = False  # for the account's owner only (change password, delete account)


def _lock_length(failures: int) -> timedelta:
    return min(timedelta(minutes=2 ** max(0, failures - LOCK_AFTER)), LOCK_MAX)


async def _may_try(account_id: int) -> bool:
    """Count this attempt, then say whether its password may be checked at all."""
    rows = (
        await Account.update({Account.failed_logins: Account.failed_logins + 1})
        .where(Account.id == account_id)
        .returning(Account.failed_logins, Account.locked_until)
    )
    if not rows:
        return False
    failures: int = rows[0]["failed_logins"]
    locked_until: datetime | None = rows[0]["locked_until"]
    now = utcnow()
    if locked_until is not None and locked_until > now:
        return False
    if failures < LOCK_AFTER:
        return True
    # The last allowed attempt before a lock, or the first after one ran out: lock first, then try.
    # Of several requests that read the same `locked_until`, one wins; the others stay refused.
    return await compare_and_set(
        Account,
        account_id,
        {Account.locked_until: locked_until},
        {Account.locked_until: now + _lock_length(failures)},
    )


async def _settle(account: Account, device: Device | None) -> None:
    if device is not None:
        # The owner's own browser: the account's count stays, strangers keep meeting its lock.
        await device.settle()
        await Account.update({Account.last_login_at: utcnow()}).where(Account.id == account.id)
        return
    await Account.update(
        {Account.failed_logins: 0, Account.locked_until: None, Account.last_login_at: utcnow()}
    ).where(Account.id == account.id)


async def check_login(identifier: str, password: str, device: Device | None = None) -> LoginResult:
    account = await find_by_login(identifier)
    # Another account's device cookie is no device for this one.
    known = device if account is not None and device is not None and device.account_id == account.id else None
    async with hashing_turn():
        if known is not None:
            allowed = await known.may_try(LOCK_AFTER)
        else:
            allowed = account is not None and await _may_try(account.id)
        # Unknown, locked or not: the hash is always computed, so every answer takes as long.
        ok = await verify_password(account.password_hash if account and allowed else None, password)
    if account is None or not ok:
        return LoginResult(problem="wrong", locked=account is not None and not allowed)
    if account.email_verified_at is None:
        await Account.update({Account.failed_logins: 0, Account.locked_until: None}).where(
            Account.id == account.id
        )
        return LoginResult(problem="unverified")
    await _settle(account, known)
    return LoginResult(account=account)


async def check_current_password(account: Account, password: str) -> LoginResult:
    """The current password asked for before a sensitive change, counted like a log-in: guessing
    it through a stolen session locks the account as failed log-ins would."""
    async with hashing_turn():
        allowed = await _may_try(account.id)
        ok = await verify_password(account.password_hash if allowed else None, password)
    if not ok:
        return LoginResult(problem="wrong", locked=not allowed)
    await Account.update({Account.failed_logins: 0, Account.locked_until: None}).where(
        Account.id == account.id
    )
    return LoginResult(account=account)


async def count_attempt(account_id: int, device: Device | None = None) -> bool:
    """Count one attempt at a second step (a code) like a log-in, first, then say whether it may be
    checked: on the known device's own count, else on the account's (the same lock-out as passwords)."""
    if device is not None and device.account_id == account_id:
        return await device.may_try(LOCK_AFTER)
    return await _may_try(account_id)


async def forgive_attempts(account_id: int, device: Device | None = None) -> None:
    """A right code: the count it was judged by starts again."""
    if device is not None and device.account_id == account_id:
        await device.settle()
        return
    await Account.update({Account.failed_logins: 0, Account.locked_until: None}).where(
        Account.id == account_id
    )


async def retry_after(account_id: int, device: Device | None = None) -> int:
    """Seconds until a refused attempt may be tried again (for the 429's Retry-After)."""
    if device is not None and device.account_id == account_id:
        return LOCK_SECONDS
    rows = await Account.select(Account.locked_until).where(Account.id == account_id)
    until: datetime | None = rows[0]["locked_until"] if rows else None
    if until is None:
        return 60
    return max(1, int((until - utcnow()).total_seconds()) + 1)
