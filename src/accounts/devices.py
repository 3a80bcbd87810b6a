"""Known devices (OWASP's device cookies): a browser that has signed in to an account carries a
signed cookie naming the account and a random nonce, and is judged by its own failed log-ins only.

Strangers' guesses lock the account for every browser without such a cookie; a known device keeps
its own count (in the throttle store, per account and nonce, counted first like every limit there)
and its own lock-out after as many failures, so a flood of guesses never locks the owner out of a
browser they signed in from before. A cookie that is tampered with, expired, or made for another
account is no device at all.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from litestar.stores.base import Store

from src import throttle
from src.tokens import TokenError, Tokens

DEVICE_COOKIE = "portal_device"
PURPOSE = "login-device"
DEVICE_MAX_AGE = 365 * 24 * 3600  # a year after the last log-in from the browser
# A device that failed LOCK_AFTER times is refused until this long after its first failure.
LOCK_SECONDS = 15 * 60


@dataclass(frozen=True)
class Device:
    account_id: int
    nonce: str
    store: Store

    @property
    def _key(self) -> str:
        return f"login-device:{self.account_id}:{self.nonce}"

    async def may_try(self, lock_after: int) -> bool:
        """Count this attempt against the device, then say whether its password may be checked."""
        return await throttle.hit(self.store, self._key, LOCK_SECONDS) <= lock_after

    async def settle(self) -> None:
        await throttle.reset(self.store, self._key)


def known_device(tokens: Tokens, store: Store, cookie: str | None) -> Device | None:
    """The device a cookie names, if the portal signed it for this purpose (not yet which account)."""
    if not cookie:
        return None
    try:
        data = tokens.load(PURPOSE, cookie, DEVICE_MAX_AGE)
    except TokenError:
        return None
    account_id, nonce = data.get("account"), data.get("nonce")
    if not isinstance(account_id, int) or not isinstance(nonce, str) or not nonce:
        return None
    return Device(account_id, nonce, store)


def device_cookie(tokens: Tokens, account_id: int) -> str:
    """A new device cookie's value for a browser that has just signed in to the account."""
    return tokens.sign(PURPOSE, {"account": account_id, "nonce": secrets.token_urlsafe(16)})
