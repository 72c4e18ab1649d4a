"""The identity service's signing keys and the tokens it signs (services/identity/keys.py)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from services.common.auth import Role, decode_token
from services.common.errors import Unauthorized
from services.common.settings import Settings
from services.identity import keys

SETTINGS = Settings(env="test", _env_file=None)  # type: ignore[call-arg]


def _pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _public_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _settings(**changes: object) -> Settings:
    return Settings(_env_file=None, **{"env": "test", **changes})  # type: ignore[arg-type]


def test_development_signs_with_a_stable_key_without_any_set_up():
    first, again = keys.load(SETTINGS), keys.load(SETTINGS)
    assert first.kid == again.kid
    assert first.jwks() == again.jwks()


def test_the_kid_is_the_rfc_7638_thumbprint():
    # RFC 7638 section 3.1 is for RSA; this is the same construction over the EC members
    jwk = keys.public_jwk(keys.development_key().public_key())
    assert jwk["kid"] == keys.kid_of(jwk)
    assert len(base64.urlsafe_b64decode(jwk["kid"] + "=")) == 32
    assert set(jwk) == {"kty", "crv", "x", "y", "kid", "use", "alg"}
    assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["use"]) == ("EC", "P-256", "ES256", "sig")


def test_the_configured_key_signs_and_old_keys_are_published_beside_it():
    current, old_private, old_public = (ec.generate_private_key(ec.SECP256R1()) for _ in "abc")
    signing = keys.load(
        _settings(
            signing_key=_pem(current),
            signing_old_keys=[_pem(old_private), _public_pem(old_public)],
        )
    )
    published = [k["kid"] for k in signing.jwks()["keys"]]
    assert published[0] == signing.kid == keys.public_jwk(current.public_key())["kid"]
    assert published[1:] == [
        keys.public_jwk(old_private.public_key())["kid"],
        keys.public_jwk(old_public.public_key())["kid"],
    ]
    assert all("d" not in jwk for jwk in signing.jwks()["keys"])  # no private member


def test_the_current_key_listed_as_old_too_is_published_once():
    current = ec.generate_private_key(ec.SECP256R1())
    signing = keys.load(_settings(signing_key=_pem(current), signing_old_keys=[_pem(current)]))
    assert len(signing.jwks()["keys"]) == 1


@pytest.mark.parametrize(
    "pem",
    [
        "not a key",
        _pem(ec.generate_private_key(ec.SECP384R1())),
    ],
)
def test_a_signing_key_that_is_no_p256_pem_is_refused_naming_the_setting(pem: str):
    with pytest.raises(ValueError, match="LIFECARE_SIGNING_KEY"):
        keys.load(_settings(signing_key=pem))


def test_production_refuses_the_development_key_and_client_secret():
    production = {
        "env": "production",
        "jwt_secret": "a-real-production-secret-0123456789abcdef",
        "payload_key": base64.b64encode(b"p" * 32).decode(),
        "jwks_url": "https://identity.example/.well-known/jwks.json",
    }
    with pytest.raises(ValueError, match="LIFECARE_SIGNING_KEY is not set"):
        keys.load(_settings(**production))
    key = _pem(ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(ValueError, match="LIFECARE_IDENTITY_CLIENT_SECRET"):
        keys.load(_settings(**production, signing_key=key))
    assert keys.load(_settings(**production, signing_key=key, identity_client_secret="s" * 40))


def test_a_token_carries_what_every_service_checks():
    signing = keys.load(SETTINGS)
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    issued = keys.sign(
        signing, SETTINGS, sub="anna", name="Anna", role=Role.provider, unit="u-1", now=now
    )
    header = jwt.get_unverified_header(issued.token)
    claims = jwt.decode(issued.token, options={"verify_signature": False})
    assert header == {"alg": "ES256", "kid": signing.kid, "typ": "JWT"}
    assert {k: claims[k] for k in ("iss", "aud", "sub", "name", "role", "unit")} == {
        "iss": "lifecare",
        "aud": "lifecare-services",
        "sub": "anna",
        "name": "Anna",
        "role": "provider",
        "unit": "u-1",
    }
    assert claims["iat"] == claims["nbf"] == int(now.timestamp())
    assert claims["exp"] - claims["iat"] == 15 * 60 == issued.expires_in


def test_the_lifetime_is_the_setting():
    settings = _settings(access_token_ttl="5m")
    issued = keys.sign(
        keys.load(settings),
        settings,
        sub="a",
        name="A",
        role=Role.admin,
        unit=None,
        now=datetime.now(UTC),
    )
    claims = jwt.decode(issued.token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 300
    assert "unit" not in claims


def test_a_platform_token_is_no_development_token():
    signing = keys.load(SETTINGS)
    issued = keys.sign(
        signing, SETTINGS, sub="a", name="A", role=Role.admin, unit=None, now=datetime.now(UTC)
    )
    with pytest.raises(Unauthorized):
        decode_token(SETTINGS, issued.token)
