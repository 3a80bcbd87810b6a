"""A software WebAuthn authenticator for the passkey tests: a real EC P-256 key pair per passkey, real
CBOR authenticator data, "none" attestation and real ECDSA signatures, answering the very options
the portal sends, so the server's checks (challenge, origin, RP id hash, flags, signature, counter)
are exercised as a browser and a phone would exercise them.

It answers in the JSON a browser's script posts (PublicKeyCredential.toJSON()). Anything can be
bent for a refusal test: the origin it claims, the RP id it hashes, the counter it reports, the user
verification flag.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

FLAG_UP = 0x01  # user present
FLAG_UV = 0x04  # user verified
FLAG_AT = 0x40  # attested credential data follows
AAGUID = bytes(16)  # "none" attestation: no make or model


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def from_b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _cose_key(public: ec.EllipticCurvePublicKey) -> bytes:
    numbers = public.public_numbers()
    # COSE_Key: kty EC2 (2), alg ES256 (-7), crv P-256 (1), x, y.
    return cbor2.dumps(
        {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")}
    )


@dataclass
class Credential:
    """One passkey the authenticator holds (discoverable: it keeps the user handle)."""

    credential_id: bytes
    private_key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0


@dataclass
class Authenticator:
    origin: str
    user_verifying: bool = True
    counts: bool = True  # an authenticator that keeps a signature counter (some passkeys report 0)
    credentials: list[Credential] = field(default_factory=list)

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": origin or self.origin, "crossOrigin": False}
        ).encode()

    def _flags(self) -> int:
        return FLAG_UP | (FLAG_UV if self.user_verifying else 0)

    def create(
        self, options: dict[str, Any], *, origin: str | None = None, rp_id: str | None = None
    ) -> dict[str, Any]:
        """navigator.credentials.create(): a new key pair, its public key in "none" attestation."""
        rp = rp_id or options["rp"]["id"]
        key = ec.generate_private_key(ec.SECP256R1())
        credential = Credential(
            credential_id=secrets.token_bytes(32),
            private_key=key,
            rp_id=rp,
            user_handle=from_b64url(options["user"]["id"]),
        )
        attested = AAGUID + struct.pack(">H", len(credential.credential_id)) + credential.credential_id
        auth_data = (
            hashlib.sha256(rp.encode()).digest()
            + bytes([self._flags() | FLAG_AT])
            + struct.pack(">I", 0)
            + attested
            + _cose_key(key.public_key())
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        self.credentials.append(credential)
        return {
            "id": b64url(credential.credential_id),
            "rawId": b64url(credential.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64url(self._client_data("webauthn.create", options["challenge"], origin)),
                "attestationObject": b64url(attestation),
                "transports": ["internal"],
            },
        }

    def get(
        self,
        options: dict[str, Any],
        *,
        credential: Credential | None = None,
        origin: str | None = None,
        rp_id: str | None = None,
        sign_count: int | None = None,
    ) -> dict[str, Any]:
        """navigator.credentials.get(): a signature over authenticator data and the client data's hash."""
        chosen = credential or self._choose(options)
        if sign_count is None and self.counts:
            chosen.sign_count += 1
        count = sign_count if sign_count is not None else (chosen.sign_count if self.counts else 0)
        auth_data = (
            hashlib.sha256((rp_id or options["rpId"]).encode()).digest()
            + bytes([self._flags()])
            + struct.pack(">I", count)
        )
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = chosen.private_key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return {
            "id": b64url(chosen.credential_id),
            "rawId": b64url(chosen.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(chosen.user_handle),
            },
        }

    def _choose(self, options: dict[str, Any]) -> Credential:
        allowed = {from_b64url(c["id"]) for c in options.get("allowCredentials") or []}
        usable = [
            c
            for c in self.credentials
            if c.rp_id == options["rpId"] and (not allowed or c.credential_id in allowed)
        ]
        assert usable, "this authenticator holds no passkey the options allow"
        return usable[-1]
