"""Platform tokens for unit tests: a key set of their own and a JWKS served from memory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from services.common.auth import JwksCache, Role, TokenVerifier
from services.common.settings import Settings
from services.identity import keys


def new_keys(*old: keys.SigningKeys) -> keys.SigningKeys:
    """A fresh signing key; the keys of `old` still verify beside it."""
    return keys.SigningKeys.of(
        ec.generate_private_key(ec.SECP256R1()), [k.current.public_key() for k in old]
    )


class Jwks:
    """The identity service's JWKS as a test sets it; counts the fetches."""

    def __init__(self, signing: keys.SigningKeys) -> None:
        self.document: Any = signing.jwks()
        self.fetched = 0

    def publish(self, signing: keys.SigningKeys) -> None:
        self.document = signing.jwks()

    async def __call__(self, _url: str) -> Any:
        self.fetched += 1
        return self.document


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def verifier(settings: Settings, jwks: Jwks, clock: Clock | None = None) -> TokenVerifier:
    cache = JwksCache(settings.jwks_location, fetch=jwks, clock=clock or Clock())
    return TokenVerifier(settings, jwks=cache)


def platform_token(
    signing: keys.SigningKeys,
    settings: Settings,
    *,
    role: Role = Role.admin,
    unit: str | None = None,
    sub: str = "op",
    now: datetime | None = None,
) -> str:
    """A token as the identity service issues it."""
    issued = keys.sign(
        signing, settings, sub=sub, name="Op", role=role, unit=unit, now=now or datetime.now(UTC)
    )
    return issued.token


def signed(signing: keys.SigningKeys, claims: dict[str, Any], **headers: Any) -> str:
    """A token with any claims, signed by the key set's current key."""
    return jwt.encode(
        claims, signing.current, algorithm="ES256", headers={"kid": signing.kid, **headers}
    )


def claims(settings: Settings, **changes: Any) -> dict[str, Any]:
    """The claims of a valid admin token, with `changes` (None removes a claim)."""
    now = datetime.now(UTC)
    base: dict[str, Any] = {
        "iss": settings.token_issuer,
        "aud": settings.token_audience,
        "sub": "op",
        "name": "Op",
        "role": "admin",
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=10),
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}
