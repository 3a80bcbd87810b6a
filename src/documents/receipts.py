"""Signed verify receipts: a verify answer as a compact JWS (EdDSA over Ed25519), signed with the
newest of SIGNING_KEYS and checkable by anyone against the keys published as a JWKS.

A receipt's payload is the verifier API's public answer for one code, as that API gives it, plus
`iss` (the verify base address), `iat` (the check time, seconds since the epoch) and `jti` (random,
unique). Nothing else: no enrolment number or ULN, the document itself only when the verify page
shows it. Each key's `kid` is its RFC 7638 thumbprint, so it names the key itself: a new key
appended to SIGNING_KEYS gets a new kid, and old receipts keep pointing at the old one.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jws
from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import OKPKey

ALGORITHM = "EdDSA"
RECEIPT_TYPE = "portal-verify-receipt+jws"
RECEIPT_MEDIA_TYPE = "application/jose"  # RFC 7515: a JWS in the compact serialization
JWKS_MEDIA_TYPE = "application/jwk-set+json"  # RFC 7517
# The largest receipt read back: a document with many units is a few KB; this is ten times that.
MAX_RECEIPT_CHARACTERS = 48 * 1024
# RFC 9864 deprecates the polymorphic "EdDSA" for the fully specified "Ed25519", and joserfc warns on
# every use. The verifiers' stock tools know "EdDSA" (the issue asks for it); "Ed25519" they mostly
# do not yet. The same key and signature either way.
warnings.filterwarnings("ignore", message="EdDSA is deprecated", category=SecurityWarning)
_REGISTRY = jws.JWSRegistry(algorithms=[ALGORITHM])


def _seed(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SigningKeys:
    """SIGNING_KEYS as keys: the newest (last) signs; all are published and check receipts."""

    def __init__(self, seeds: tuple[str, ...]) -> None:
        if not seeds:
            raise ValueError("at least one signing key is needed")
        ring = [OKPKey.import_key(Ed25519PrivateKey.from_private_bytes(_seed(seed))) for seed in seeds]
        self.keys: dict[str, OKPKey] = {key.thumbprint(): key for key in ring}
        self._signing = ring[-1]
        self.signing_kid = self._signing.thumbprint()
        self._header = {"alg": ALGORITHM, "typ": RECEIPT_TYPE, "kid": self.signing_kid}
        # Public parts only: kty, crv and x (never d), with what a verifier needs to pick the key.
        self.jwks = {
            "keys": [
                {**key.as_dict(private=False), "kid": kid, "alg": ALGORITHM, "use": "sig"}
                for kid, key in self.keys.items()
            ]
        }

    def sign(self, answer: dict[str, Any], *, issuer: str, at: datetime) -> str:
        """The receipt of one answer (the API's JSON for a code), checked at `at`."""
        claims = {**answer, "iss": issuer, "iat": int(at.timestamp()), "jti": secrets.token_urlsafe(16)}
        payload = json.dumps(claims, ensure_ascii=False, separators=(",", ":")).encode()
        return jws.serialize_compact(self._header, payload, self._signing, registry=_REGISTRY)

    def read(self, text: str) -> Reading:
        """What a receipt someone hands us says, and whether one of our keys signed it. Never raises
        for what it is given: anything that is not a receipt of ours says so in `outcome`."""
        text = "".join(text.split())  # pasted receipts gain line breaks and spaces
        if not text:
            return Reading("empty")
        if len(text) > MAX_RECEIPT_CHARACTERS or not text.isascii() or text.count(".") != 2:
            return Reading("not_a_receipt")
        try:
            token = jws.extract_compact(text.encode(), registry=_REGISTRY)
            header = token.headers()
        except (JoseError, ValueError, TypeError, binascii.Error, RecursionError):
            return Reading("not_a_receipt")
        if header.get("typ") != RECEIPT_TYPE or header.get("alg") != ALGORITHM:
            return Reading("not_a_receipt")
        kid = header.get("kid")
        key = self.keys.get(kid) if isinstance(kid, str) else None
        if key is None or not isinstance(kid, str):
            return Reading("unknown_key", kid=str(kid or ""))
        try:
            genuine = jws.validate_compact(token, key, registry=_REGISTRY)
        except (JoseError, ValueError, TypeError):
            genuine = False
        if not genuine:
            return Reading("tampered", kid=kid)
        # Read only once the signature holds: what we signed is a JSON object.
        try:
            claims = json.loads(token.payload)
        except (ValueError, RecursionError):
            claims = None
        if not isinstance(claims, dict):
            return Reading("not_a_receipt")
        return Reading("genuine", kid=kid, claims=claims)


@dataclass(frozen=True)
class Reading:
    """A receipt read back. `outcome`: genuine (one of our keys signed exactly this), tampered (it
    names our key, but the signature does not match what it says), unknown_key (not signed by any key
    of ours), not_a_receipt (not a receipt at all) or empty."""

    outcome: str
    kid: str = ""
    claims: dict[str, Any] | None = None

    @property
    def signed_at(self) -> datetime | None:
        iat = (self.claims or {}).get("iat")
        if isinstance(iat, int) and 0 <= iat < 2**37:
            return datetime.fromtimestamp(iat, UTC)
        return None
