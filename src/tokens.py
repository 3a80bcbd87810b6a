"""Signed, purpose-bound, expiring, single-use links (itsdangerous, SHA-256, one salt per purpose),
and secrets sealed at rest (Fernet) under keys derived from the same SECRET_KEYS.

Single use comes from binding each token to state that the action itself changes: a verification
token carries the email and dies once the address is verified; a reset token carries a fingerprint
of the password hash, so it dies the moment the password changes by any route.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
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

    def seal(self, purpose: str, secret: str) -> str:
        """`secret` encrypted and authenticated under the newest key, for storing at rest."""
        return _sealer(self.secret_keys, purpose)[1].encrypt(secret.encode()).decode()

    def unseal(self, purpose: str, sealed: str) -> str:
        """What `seal` sealed, under any of the keys; TokenError("invalid") if no key opens it."""
        try:
            return _sealer(self.secret_keys, purpose)[1].decrypt(sealed.encode()).decode()
        except (InvalidToken, ValueError) as exc:
            raise TokenError("invalid") from exc

    def reseal(self, purpose: str, sealed: str) -> str | None:
        """`sealed` sealed again under the newest key, or None when it already is (or opens with none)."""
        newest, sealer = _sealer(self.secret_keys, purpose)
        try:
            newest.decrypt(sealed.encode())
            return None
        except InvalidToken:
            pass
        try:
            return sealer.rotate(sealed.encode()).decode()
        except InvalidToken:
            return None


@lru_cache(maxsize=32)
def _sealer(secret_keys: tuple[str, ...], purpose: str) -> tuple[Fernet, MultiFernet]:
    """One Fernet key per SECRET_KEY and purpose (HKDF-SHA256), newest first: MultiFernet seals with
    the first and opens with any, so keys rotate as they do for links (append a new key, later drop
    the old one: `Tokens.reseal` moves a value sealed under an older key to the newest)."""
    fernets = []
    for key in reversed(secret_keys):
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=f"portal.seal.{purpose}".encode()
        ).derive(key.encode())
        fernets.append(Fernet(base64.urlsafe_b64encode(derived)))
    return fernets[0], MultiFernet(fernets)


def password_fingerprint(password_hash: str | None, last_login_at: object) -> str:
    """Changes whenever the password (or a log-in) changes, ending every reset link issued before."""
    material = f"{password_hash or ''}|{last_login_at or ''}".encode()
    return hashlib.sha256(material).hexdigest()[:32]
