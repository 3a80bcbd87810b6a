"""The keys that sign verify receipts, published as a JWK Set (RFC 7517) at the well-known address
verifiers look for: public parts only, cacheable for an hour, open to any origin, no cookie."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.openapi.datastructures import ResponseSpec

from src import documents
from src.routes.verify import PUBLIC

# An hour: a verifier fetching the keys often costs little; a key added to SIGNING_KEYS is published
# at once, and signs only after it has been (see the README on rotating keys).
JWKS_HEADERS = {
    "Cache-Control": "public, max-age=3600",
    "Access-Control-Allow-Origin": "*",
    "X-Robots-Tag": "noindex",
}


@dataclass
class JsonWebKey:
    """One public key (RFC 8037: an Ed25519 key is of type OKP, its public key in `x`)."""

    kty: str
    crv: str
    x: str
    kid: str
    alg: str
    use: str


@dataclass
class JsonWebKeySet:
    keys: list[JsonWebKey]


class JwksController(Controller):
    path = "/.well-known"
    opt = PUBLIC
    tags = ["receipts"]

    @get(
        "/jwks.json",
        name="jwks",
        summary="The public keys that sign verify receipts",
        description="A JWK Set: each key `kty` OKP, `crv` Ed25519, `x` (the public key), `kid` (its RFC "
        "7638 thumbprint, named in a receipt's header), `alg` EdDSA, `use` sig. Older keys stay here "
        "after a newer one signs, so old receipts can still be checked.",
        media_type=documents.JWKS_MEDIA_TYPE,
        responses={
            200: ResponseSpec(
                data_container=JsonWebKeySet,
                media_type=documents.JWKS_MEDIA_TYPE,
                description="The keys, the newest last",
                generate_examples=False,
            )
        },
    )
    async def signing_keys(self, request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        """JSON: the receipt-signing keys' public parts."""
        keys: documents.SigningKeys = request.app.state.signing_keys
        return Response(keys.jwks, media_type=documents.JWKS_MEDIA_TYPE, headers=JWKS_HEADERS)
