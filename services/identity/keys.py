"""The identity service's signing keys and the platform's tokens it signs with them.

The current key (LIFECARE_SIGNING_KEY) signs; the keys in LIFECARE_SIGNING_OLD_KEYS are
only published in the JWKS, so the tokens they signed keep verifying until they are
removed. Rotation without downtime: (1) optionally publish the next key ahead of time in
the old keys (services that fetched the keys less than 10 s before the switch then know it
already), (2) make it the current key and move the previous one to the old keys, (3) after
one token lifetime (15 minutes) remove the previous one. A key's id (`kid`) is its RFC 7638
thumbprint, the same in every process that holds it. Without a key, development and test
sign with one derived from a fixed seed, so `make up` needs no set-up; production refuses
that."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from services.common.auth import PLATFORM_ALGORITHM, Role
from services.common.settings import DEVELOPMENT_IDENTITY_CLIENT_SECRET, Settings

DEVELOPMENT_SEED = b"lifecare-development-signing-key-do-not-use-in-production"


def development_key() -> ec.EllipticCurvePrivateKey:
    """The stable development signing key, derived from a fixed seed (never in production)."""
    scalar = int.from_bytes(hashlib.sha256(DEVELOPMENT_SEED).digest(), "big")
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551  # of P-256
    return ec.derive_private_key(scalar % (order - 1) + 1, ec.SECP256R1())


def public_jwk(key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    """The public key as a JWK with its kid, for ES256 signatures."""
    jwk: dict[str, str] = ECAlgorithm.to_jwk(key, as_dict=True)
    return {**jwk, "kid": kid_of(jwk), "use": "sig", "alg": PLATFORM_ALGORITHM}


def kid_of(jwk: dict[str, str]) -> str:
    """The RFC 7638 thumbprint of an EC public JWK (base64url of SHA-256, no padding)."""
    members = {name: jwk[name] for name in ("crv", "kty", "x", "y")}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()


def read_private_key(pem: str, setting: str) -> ec.EllipticCurvePrivateKey:
    """An EC P-256 private key from PEM; a ValueError naming the setting otherwise."""
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{setting} is not an unencrypted PEM private key") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError(f"{setting} must be an EC P-256 key (ES256)")
    return key


def read_public_key(pem: str, setting: str) -> ec.EllipticCurvePublicKey:
    """The public half of an old key given as PEM, private or public."""
    if "PRIVATE KEY" in pem:
        return read_private_key(pem, setting).public_key()
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{setting} holds a key that is not PEM") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise ValueError(f"{setting} must hold EC P-256 keys (ES256)")
    return key


@dataclass(frozen=True)
class SigningKeys:
    """The key that signs and every key that still verifies (itself first)."""

    current: ec.EllipticCurvePrivateKey
    kid: str
    verifying: tuple[dict[str, str], ...]

    @classmethod
    def of(
        cls,
        current: ec.EllipticCurvePrivateKey,
        old: list[ec.EllipticCurvePublicKey] | None = None,
    ) -> SigningKeys:
        jwks = [public_jwk(current.public_key())]
        for key in old or []:
            jwk = public_jwk(key)
            if jwk["kid"] not in {k["kid"] for k in jwks}:
                jwks.append(jwk)
        return cls(current=current, kid=jwks[0]["kid"], verifying=tuple(jwks))

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The JWKS document the services verify against."""
        return {"keys": list(self.verifying)}


def load(settings: Settings) -> SigningKeys:
    """The keys the settings name; the development key when none is set outside production."""
    check_production(settings)
    if settings.signing_key is None:
        current = development_key()
    else:
        current = read_private_key(settings.signing_key.get_secret_value(), "LIFECARE_SIGNING_KEY")
    old = [
        read_public_key(key.get_secret_value(), "LIFECARE_SIGNING_OLD_KEYS")
        for key in settings.signing_old_keys
    ]
    return SigningKeys.of(current, old)


def check_production(settings: Settings) -> None:
    """Refuse to run the identity service in production on development credentials."""
    if settings.env != "production":
        return
    if settings.signing_key is None:
        raise ValueError(
            "LIFECARE_SIGNING_KEY is not set: production signs the platform's tokens with a "
            "key of its own (openssl ecparam -name prime256v1 -genkey -noout | "
            "openssl pkcs8 -topk8 -nocrypt)"
        )
    if settings.identity_client_secret.get_secret_value() == DEVELOPMENT_IDENTITY_CLIENT_SECRET:
        raise ValueError(
            "LIFECARE_IDENTITY_CLIENT_SECRET is the development secret; set a real one in "
            "production"
        )


@dataclass(frozen=True)
class Issued:
    """A signed platform token and when it expires."""

    token: str
    expires_at: datetime
    expires_in: int


def sign(
    keys: SigningKeys,
    settings: Settings,
    *,
    sub: str,
    name: str,
    role: Role,
    unit: str | None,
    now: datetime,
) -> Issued:
    """A platform token for one person, role and unit, valid from `now` for the settings'
    access token lifetime (at most 15 minutes)."""
    lifetime = settings.access_token_ttl
    expires_at = now + lifetime
    claims: dict[str, Any] = {
        "iss": settings.token_issuer,
        "aud": settings.token_audience,
        "sub": sub,
        "name": name,
        "role": role.value,
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
        "jti": str(uuid.uuid4()),
    }
    if unit is not None:
        claims["unit"] = unit
    token = jwt.encode(
        claims, keys.current, algorithm=PLATFORM_ALGORITHM, headers={"kid": keys.kid}
    )
    return Issued(token=token, expires_at=expires_at, expires_in=int(lifetime.total_seconds()))
