"""The platform's tokens as every service verifies them (services/common/auth.py's
TokenVerifier): ES256 against the identity service's JWKS, issuer, audience, expiry and
not-before with 60 s of skew, keys fetched again for an unknown kid, rotation, and the
development tokens that production refuses."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse

from lifecare import codec_server
from services.common.app import ServiceSpec, create_app
from services.common.auth import (
    JWKS_MAX_AGE,
    JWKS_REFETCH_AFTER,
    Principal,
    Role,
    TokenVerifier,
    issue_token,
)
from services.common.deps import Caller, verifier_of
from services.common.errors import LifecareError, Unauthorized, Unavailable
from services.common.settings import Settings
from tests.unit.common import tokens

SETTINGS = Settings(env="test", _env_file=None)  # type: ignore[call-arg]
PRODUCTION = Settings(
    env="production",
    jwt_secret="a-real-production-secret-0123456789abcdef",
    payload_key=base64.b64encode(b"p" * 32).decode(),
    jwks_url="https://identity.example/.well-known/jwks.json",
    _env_file=None,
)  # type: ignore[call-arg]


@pytest.fixture
def signing():
    return tokens.new_keys()


@pytest.fixture
def jwks(signing):
    return tokens.Jwks(signing)


@pytest.fixture
def clock():
    return tokens.Clock()


@pytest.fixture
def verifier(jwks, clock):
    return tokens.verifier(SETTINGS, jwks, clock)


async def _refusal(verifier, token: str) -> Unauthorized:
    with pytest.raises(Unauthorized) as caught:
        await verifier.verify(token)
    assert caught.value.status == 401
    return caught.value


# --- what verifies ---------------------------------------------------------------------------


async def test_a_token_of_the_identity_service_names_its_person_role_and_unit(signing, verifier):
    token = tokens.platform_token(signing, SETTINGS, role=Role.provider, unit="u-1", sub="anna")
    assert await verifier.verify(token) == Principal(
        sub="anna", name="Op", role=Role.provider, unit="u-1"
    )


async def test_the_keys_are_fetched_once_and_kept(signing, jwks, verifier):
    for _ in range(5):
        await verifier.verify(tokens.platform_token(signing, SETTINGS))
    assert jwks.fetched == 1


async def test_a_unit_admin_token_names_its_unit(signing, verifier):
    token = tokens.platform_token(signing, SETTINGS, role=Role.unit_admin, unit="u-1")
    assert (await verifier.verify(token)).unit == "u-1"
    no_unit = tokens.signed(signing, tokens.claims(SETTINGS, role="unit_admin"))
    assert "must name its unit" in (await _refusal(verifier, no_unit)).message


async def test_the_claims_of_a_platform_token_are_checked_strictly(signing, verifier):
    token = tokens.signed(signing, tokens.claims(SETTINGS, role="provider", unit=["u-1"]))
    assert "'unit' must be a string" in (await _refusal(verifier, token)).message


# --- expiry and not-before, with 60 s of skew --------------------------------------------------


async def test_an_expired_token_is_refused_as_expired(signing, verifier):
    now = datetime.now(UTC)
    token = tokens.platform_token(signing, SETTINGS, now=now - timedelta(minutes=20))
    assert (await _refusal(verifier, token)).code == "token_expired"


async def test_a_token_expired_within_the_skew_still_verifies(signing, verifier):
    now = datetime.now(UTC)
    claims = tokens.claims(
        SETTINGS, iat=now - timedelta(minutes=5), exp=now - timedelta(seconds=30)
    )
    assert (await verifier.verify(tokens.signed(signing, claims))).sub == "op"
    claims["exp"] = now - timedelta(seconds=90)
    assert (await _refusal(verifier, tokens.signed(signing, claims))).code == "token_expired"


async def test_not_before_is_read_with_60_seconds_of_skew(signing, verifier):
    now = datetime.now(UTC)
    ahead = tokens.platform_token(signing, SETTINGS, now=now + timedelta(seconds=30))
    assert (await verifier.verify(ahead)).sub == "op"
    early = tokens.platform_token(signing, SETTINGS, now=now + timedelta(seconds=120))
    assert (await _refusal(verifier, early)).code == "token_not_yet_valid"


async def test_a_token_that_lives_longer_than_15_minutes_is_refused(signing, verifier):
    now = datetime.now(UTC)
    claims = tokens.claims(SETTINGS, iat=now, nbf=now, exp=now + timedelta(hours=12))
    refusal = await _refusal(verifier, tokens.signed(signing, claims))
    assert "at most 15 minutes" in refusal.message


@pytest.mark.parametrize("missing", ["iss", "aud", "sub", "role", "iat", "nbf", "exp"])
async def test_a_token_without_a_required_claim_is_refused_naming_it(signing, verifier, missing):
    token = tokens.signed(signing, tokens.claims(SETTINGS, **{missing: None}))
    refusal = await _refusal(verifier, token)
    assert missing in refusal.message


# --- issuer, audience, signature ---------------------------------------------------------------


async def test_a_token_for_another_audience_is_refused(signing, verifier):
    token = tokens.signed(signing, tokens.claims(SETTINGS, aud="another-platform"))
    assert "(aud)" in (await _refusal(verifier, token)).message


async def test_a_token_of_another_issuer_is_refused(signing, verifier):
    token = tokens.signed(signing, tokens.claims(SETTINGS, iss="https://someone.else"))
    assert "(iss)" in (await _refusal(verifier, token)).message


async def test_a_tampered_signature_is_refused(signing, verifier):
    header, payload, signature = tokens.platform_token(signing, SETTINGS).split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert (await _refusal(verifier, f"{header}.{payload}.{flipped}")).code == "token_invalid"


async def test_claims_changed_after_signing_are_refused(signing, verifier):
    token = tokens.platform_token(signing, SETTINGS, role=Role.coordinator)
    header, _payload, signature = token.split(".")
    forged = tokens.signed(tokens.new_keys(), tokens.claims(SETTINGS)).split(".")[1]
    token = f"{header}.{forged}.{signature}"
    assert (await _refusal(verifier, token)).code == "token_invalid"


async def test_a_token_without_a_kid_is_refused(signing, verifier):
    token = jwt.encode(tokens.claims(SETTINGS), signing.current, algorithm="ES256")
    assert "kid" in (await _refusal(verifier, token)).message


# --- unknown kid, rotation ----------------------------------------------------------------------


async def test_an_unknown_kid_fetches_the_keys_again_then_is_refused(
    signing, jwks, verifier, clock
):
    await verifier.verify(tokens.platform_token(signing, SETTINGS))
    clock.now += JWKS_REFETCH_AFTER
    stranger = tokens.platform_token(tokens.new_keys(), SETTINGS)
    refusal = await _refusal(verifier, stranger)
    assert "does not publish" in refusal.message
    assert jwks.fetched == 2


async def test_unknown_kids_fetch_the_keys_at_most_once_per_interval(
    signing, jwks, verifier, clock
):
    await verifier.verify(tokens.platform_token(signing, SETTINGS))
    clock.now += JWKS_REFETCH_AFTER
    for _ in range(20):
        await _refusal(verifier, tokens.platform_token(tokens.new_keys(), SETTINGS))
    assert jwks.fetched == 2
    clock.now += JWKS_REFETCH_AFTER
    await _refusal(verifier, tokens.platform_token(tokens.new_keys(), SETTINGS))
    assert jwks.fetched == 3


async def test_a_rotated_key_signs_at_once_and_the_old_one_verifies_until_removed(
    signing, jwks, verifier, clock
):
    old_token = tokens.platform_token(signing, SETTINGS, sub="before")
    assert (await verifier.verify(old_token)).sub == "before"

    rotated = tokens.new_keys(signing)  # the new key signs; the old one is still published
    jwks.publish(rotated)
    clock.now += JWKS_REFETCH_AFTER
    new_token = tokens.platform_token(rotated, SETTINGS, sub="after")
    assert (await verifier.verify(new_token)).sub == "after"  # its kid fetched the keys
    assert (await verifier.verify(old_token)).sub == "before"

    jwks.publish(_only(rotated))
    clock.now += JWKS_MAX_AGE  # the cached set grows old and is fetched again
    assert (await verifier.verify(new_token)).sub == "after"
    assert "does not publish" in (await _refusal(verifier, old_token)).message


def _only(signing):
    """The key set with its old keys removed."""
    from services.identity.keys import SigningKeys

    return SigningKeys.of(signing.current)


# --- the JWKS away ---------------------------------------------------------------------------


async def test_without_any_keys_fetched_a_platform_token_is_a_503(signing, clock):
    async def down(_url: str) -> object:
        raise httpx.ConnectError("refused")

    cache_verifier = tokens.verifier(SETTINGS, tokens.Jwks(signing), clock)
    cache_verifier.jwks._fetch = down  # type: ignore[attr-defined]
    with pytest.raises(Unavailable) as caught:
        await cache_verifier.verify(tokens.platform_token(signing, SETTINGS))
    assert caught.value.code == "jwks_unavailable"


async def test_known_keys_keep_verifying_while_the_jwks_is_away(signing, jwks, verifier, clock):
    token = tokens.platform_token(signing, SETTINGS)
    await verifier.verify(token)

    async def down(_url: str) -> object:
        raise httpx.ConnectError("refused")

    verifier.jwks._fetch = down
    clock.now += JWKS_MAX_AGE
    assert (await verifier.verify(token)).sub == "op"


# --- development tokens ----------------------------------------------------------------------


async def test_development_tokens_still_verify_outside_production(verifier):
    token = issue_token(SETTINGS, sub="dev", name="Dev", role=Role.provider, unit="u-1")
    assert await verifier.verify(token) == Principal(
        sub="dev", name="Dev", role=Role.provider, unit="u-1"
    )


async def test_production_refuses_development_tokens(signing, jwks):
    production = tokens.verifier(PRODUCTION, jwks)
    token = issue_token(PRODUCTION, sub="dev", name="Dev", role=Role.admin)
    assert "development tokens are refused" in (await _refusal(production, token)).message
    assert (await production.verify(tokens.platform_token(signing, PRODUCTION))).sub == "op"


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "eyJhbGciOiJub25lIn0.e30."])
async def test_text_that_is_no_token_is_refused(verifier, garbage: str):
    assert (await _refusal(verifier, garbage)).code == "token_invalid"


# --- the caller of every route ------------------------------------------------------------------


def _route_app(settings: Settings, verifier) -> FastAPI:
    """An app with one route that reads its caller, as every service's routes do."""
    app = FastAPI()
    app.state.settings = settings
    app.state.verifier = verifier

    @app.get("/me")
    async def me(caller: Caller) -> dict[str, str]:
        return {"sub": caller.sub, "role": caller.role.value}

    @app.exception_handler(LifecareError)
    async def refused(_request, exc: LifecareError) -> JSONResponse:
        return JSONResponse({"error": {"code": exc.code}}, exc.status)

    return app


async def test_every_route_reads_its_caller_through_the_apps_verifier(signing, jwks):
    app = _route_app(PRODUCTION, tokens.verifier(PRODUCTION, jwks))
    platform = tokens.platform_token(signing, PRODUCTION, sub="adam")
    development = issue_token(PRODUCTION, sub="adam", name="Adam", role=Role.admin)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        accepted = await client.get("/me", headers={"Authorization": f"Bearer {platform}"})
        refused = await client.get("/me", headers={"Authorization": f"Bearer {development}"})
        anonymous = await client.get("/me")
    assert (accepted.status_code, accepted.json()) == (200, {"sub": "adam", "role": "admin"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (401, "token_invalid")
    assert anonymous.status_code == 401


def test_an_app_without_a_verifier_gets_one_for_its_settings():
    app = FastAPI()
    app.state.settings = SETTINGS
    verifier = verifier_of(app)
    assert verifier is verifier_of(app)
    assert verifier.jwks.url == SETTINGS.jwks_location


def test_a_service_in_production_refuses_to_start_without_a_jwks_url():
    without = PRODUCTION.model_copy(update={"jwks_url": None})
    with pytest.raises(ValueError, match="LIFECARE_JWKS_URL is not set"):
        TokenVerifier(without)
    with pytest.raises(ValueError, match="LIFECARE_JWKS_URL is not set"):
        create_app(ServiceSpec(name="orders", title="t", router=APIRouter()), without)
    with pytest.raises(ValueError, match="LIFECARE_JWKS_URL is not set"):
        codec_server.build(without)
    assert TokenVerifier(PRODUCTION).jwks.url == PRODUCTION.jwks_url
