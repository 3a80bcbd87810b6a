"""Recovery codes: ten one-use codes for when the authenticator is out of reach.

Each is 80 random bits written as 16 Crockford base32 characters (`XXXX-XXXX-XXXX-XXXX`); only a
SHA-256 of it is stored (with that much randomness no slow hash is needed: there is nothing to
guess from). A code is spent by one compare-and-set (`used_at` from empty to now), so the same code
posted twice at once is accepted once. A new set replaces the old one whole.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from src import clock
from src.accounts.notices import send_notice
from src.audit import AuditAction, record
from src.db import write_transaction
from src.tables.accounts import Account, RecoveryCode

HOW_MANY = 10
FEW_LEFT = 2  # the two-step page warns at this many or fewer
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
_TYPED = re.compile(r"[0-9A-Z]{16}")
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def _new_code() -> str:
    number = int.from_bytes(secrets.token_bytes(10))  # 80 bits
    chars = "".join(_ALPHABET[(number >> (5 * i)) & 31] for i in range(16))
    return "-".join(chars[i : i + 4] for i in range(0, 16, 4))


def normalise_recovery_code(typed: str) -> str | None:
    """A recovery code as typed (any case, spaces or dashes, O for 0, I or L for 1), or None."""
    code = re.sub(r"[\s\-]+", "", typed).upper().translate(_LOOKALIKES)
    if not _TYPED.fullmatch(code) or any(c not in _ALPHABET for c in code):
        return None
    return "-".join(code[i : i + 4] for i in range(0, 16, 4))


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


async def new_recovery_codes(account_id: int) -> list[str]:
    """A fresh set of ten for the account, replacing any before (inside the caller's transaction)."""
    codes = [_new_code() for _ in range(HOW_MANY)]
    await RecoveryCode.delete().where(RecoveryCode.account == account_id)
    await RecoveryCode.insert(*[RecoveryCode(account=account_id, code_hash=_hash(code)) for code in codes])
    return codes


async def recovery_codes_left(account: Account) -> int:
    return await RecoveryCode.count().where(
        (RecoveryCode.account == account.id) & RecoveryCode.used_at.is_null()
    )


async def redeem_recovery_code(account: Account, code: str) -> int | None:
    """Spend one of the account's unused codes: how many remain, or None if it is not one of them.
    Emails the person (a code used is a sign-in they should recognise) and says how many are left."""
    async with write_transaction():
        spent = (
            await RecoveryCode.update({RecoveryCode.used_at: clock.utcnow()})
            .where(
                (RecoveryCode.account == account.id)
                & (RecoveryCode.code_hash == _hash(code))
                & RecoveryCode.used_at.is_null()
            )
            .returning(RecoveryCode.id)
        )
        if not spent:
            return None
        left = await recovery_codes_left(account)
        await send_notice(
            account,
            "recovery_code_used",
            {"first_name": account.first_name, "left": left, "few": left <= FEW_LEFT},
            f"recovery-code-used:{spent[0]['id']}",
        )
        await record(AuditAction.used_recovery_code, account)
    return left


def recovery_left_message(left: int) -> str:
    """What a person reads after signing in with a recovery code."""
    codes = "recovery code" if left == 1 else "recovery codes"
    message = f"You signed in with a recovery code. You have {left} {codes} left."
    if left <= FEW_LEFT:
        message += " Make a new set now: Profile, then Two-step sign-in."
    return message
