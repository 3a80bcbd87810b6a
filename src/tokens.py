"""Signed, purpose-bound, expiring, single-use links (itsdangerous, SHA-256, one salt per purpose).

Single use comes from binding each token to state that the action itself changes: a verification
token carries the email and dies once the address is verified; a reset token carries a fingerprint
of the password hash, so it dies the moment the password changes by any route.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

# Lifetimes, stated on the pages and in the emails that carry the links.
VERIFY_EMAIL_MAX_AGE = 24 * 3600
ACTIVATE_MAX_AGE = 7 * 24 * 3600
RESET_PASSWORD_MAX_AGE = 3600


class TokenError(Exception):
    """The link is expired, tampered with, used, or meant for something else."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "expired" | "invalid"


@dataclass(frozen=True)
class Tokens:
    secret_keys: tuple[str, ...]

    def _serializer(self, purpose: str) -> URLSafeTimedSerializer:
        # A list of keys verifies with all and signs with the last: newest last rotates keys.
        return URLSafeTimedSerializer(
            list(self.secret_keys),
            salt=f"portal.{purpose}",
            signer_kwargs={"digest_method": hashlib.sha256},
        )

    def sign(self, purpose: str, payload: dict[str, Any]) -> str:
        return self._serializer(purpose).dumps(payload)

    def load(self, purpose: str, token: str, max_age: int) -> dict[str, Any]:
        try:
            data = self._serializer(purpose).loads(token, max_age=max_age)
        except SignatureExpired as exc:
            raise TokenError("expired") from exc
        except BadSignature as exc:
            raise TokenError("invalid") from exc
        if not isinstance(data, dict):
            raise TokenError("invalid")
        return data


def password_fingerprint(password_hash: str | None, last_login_at: object) -> str:
    """Changes whenever the password (or a log-in) changes, ending every reset link issued before."""
    material = f"{password_hash or ''}|{last_login_at or ''}".encode()
    return hashlib.sha256(material).hexdigest()[:32]
