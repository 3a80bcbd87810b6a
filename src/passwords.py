"""Password rules (NIST SP 800-63B-4: length, a blocklist, no composition rules) and Argon2id hashing.

Hashing is CPU-heavy, so it runs in a worker thread, off the event loop.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 15
MAX_LENGTH = 128

_hasher = PasswordHasher()  # argon2-cffi's defaults are Argon2id with RFC 9106's low-memory profile
# Verifying against this costs as much as a real check, so unknown accounts answer as slowly.
_DUMMY_HASH = _hasher.hash("not a real password, only for timing")


@cache
def _common_passwords() -> frozenset[str]:
    path = Path(__file__).parent / "data" / "common-passwords.txt"
    lines = path.read_text().splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def password_problem(password: str, *, username: str = "", email: str = "") -> str | None:
    """The reason a new password is refused, in words for the person, or None when it is fine."""
    if len(password) < MIN_LENGTH:
        return f"Enter a password of at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"Enter a password of at most {MAX_LENGTH} characters"
    lowered = password.lower()
    if lowered in _common_passwords() or len(set(lowered)) <= 2:
        return "This password is too common. Try a few unrelated words together"
    if lowered in {username.lower(), email.lower(), email.lower().split("@")[0]}:
        return "Your password must not be your user name or email address"
    return None


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(_hasher.hash, password)


def _verify(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when the password matches; with no stored hash it still spends the same time and fails."""
    return await anyio.to_thread.run_sync(_verify, stored_hash, password)
