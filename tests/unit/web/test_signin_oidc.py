"""The ID token the web UI accepts from its OpenID Connect provider: signed by a key the
provider publishes (fetched again when a token names a new one), for our client, from our
issuer, not expired, with this sign-in's nonce. The provider's discovery document and keys
are served here by a stand-in transport; the whole flow runs against a real provider in
tests/web/test_signin.py."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from services.common.settings import Settings
from services.web.main import build
from services.web.oidc import OidcClient, ProviderDown, SignInFailed, check_configured

ISSUER = "https://idp.example"
CLIENT = "lifecare-web"
NONCE = "the-nonce-of-this-sign-in"


class Provider:
    """What the provider publishes: its discovery document and its current keys."""

    def __init__(self) -> None:
        self.keys = [RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig"})]
        self.fetches = 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/.well-known/openid-configuration":
            return httpx.Response(
                200,
                json={
                    "issuer": ISSUER,
                    "authorization_endpoint": f"{ISSUER}/auth",
                    "token_endpoint": f"{ISSUER}/token",
                    "jwks_uri": f"{ISSUER}/jwks",
                },
            )
        if request.url.path == "/jwks":
            self.fetches += 1
            return httpx.Response(200, json={"keys": [k.as_dict(private=False) for k in self.keys]})
        return httpx.Response(404)

    def token(self, key: RSAKey | None = None, **changes: Any) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": CLIENT,
            "sub": "anna",
            "name": "Anna Andersson",
            "iat": now,
            "exp": now + 300,
            "nonce": NONCE,
            **changes,
        }
        key = key or self.keys[0]
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


@pytest.fixture
def provider() -> Provider:
    return Provider()


@pytest.fixture
def client(provider: Provider) -> OidcClient:
    settings = Settings(
        env="test", oidc_issuer=ISSUER, oidc_client_id=CLIENT, oidc_client_secret="s"
    )
    return OidcClient(settings, transport=httpx.MockTransport(provider.handle))


async def test_a_good_id_token_gives_its_claims(client: OidcClient, provider: Provider) -> None:
    claims = await client.verify_id_token(provider.token(), nonce=NONCE)
    assert (claims["sub"], claims["name"]) == ("anna", "Anna Andersson")


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"exp": int(time.time()) - 3600}, "expired"),
        ({"aud": "another-client"}, "aud"),
        ({"iss": "https://other-idp.example"}, "iss"),
        ({"nonce": "another-sign-in"}, "nonce"),
        ({"sub": " "}, "sub"),
    ],
)
async def test_an_id_token_that_does_not_hold_is_refused_saying_why(
    client: OidcClient, provider: Provider, changes: dict, reason: str
) -> None:
    with pytest.raises(SignInFailed) as refused:
        await client.verify_id_token(provider.token(**changes), nonce=NONCE)
    assert reason in refused.value.reason


async def test_several_audiences_need_us_as_the_authorized_party(
    client: OidcClient, provider: Provider
) -> None:
    both = [CLIENT, "another-client"]
    with pytest.raises(SignInFailed, match="azp"):
        await client.verify_id_token(provider.token(aud=both), nonce=NONCE)
    claims = await client.verify_id_token(provider.token(aud=both, azp=CLIENT), nonce=NONCE)
    assert claims["azp"] == CLIENT


async def test_a_tampered_signature_is_refused(client: OidcClient, provider: Provider) -> None:
    header, payload, signature = provider.token().split(".")
    forged = ".".join(
        [header, payload, signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")]
    )
    with pytest.raises(SignInFailed, match="signature"):
        await client.verify_id_token(forged, nonce=NONCE)


async def test_a_key_the_provider_does_not_publish_is_refused(
    client: OidcClient, provider: Provider
) -> None:
    stranger = RSAKey.generate_key(2048, parameters={"kid": "not-published"})
    with pytest.raises(SignInFailed, match="does not publish"):
        await client.verify_id_token(provider.token(stranger), nonce=NONCE)


async def test_made_up_kids_fetch_the_keys_at_most_once_per_interval(
    client: OidcClient, provider: Provider
) -> None:
    await client.verify_id_token(provider.token(), nonce=NONCE)
    for n in range(5):
        stranger = RSAKey.generate_key(2048, parameters={"kid": f"made-up-{n}"})
        with pytest.raises(SignInFailed, match="does not publish"):
            await client.verify_id_token(provider.token(stranger), nonce=NONCE)
    assert provider.fetches == 1


async def test_a_provider_that_does_not_answer_is_said_so(provider: Provider) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    settings = Settings(env="test", oidc_issuer=ISSUER, oidc_client_secret="s")
    client = OidcClient(settings, transport=httpx.MockTransport(down))
    with pytest.raises(ProviderDown):
        await client.start("https://web/logga-in/klar", "/")


async def test_a_discovery_document_of_another_issuer_is_not_trusted() -> None:
    def elsewhere(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"issuer": "https://evil.example"})

    settings = Settings(env="test", oidc_issuer=ISSUER, oidc_client_secret="s")
    client = OidcClient(settings, transport=httpx.MockTransport(elsewhere))
    with pytest.raises(ProviderDown):
        await client.metadata()


async def test_a_rotated_key_is_fetched_at_once(client: OidcClient, provider: Provider) -> None:
    await client.verify_id_token(provider.token(), nonce=NONCE)
    provider.keys = [RSAKey.generate_key(2048, parameters={"kid": "k2", "use": "sig"})]
    client._keys_at -= 60  # the last fetch a minute ago: a new kid may fetch again
    claims = await client.verify_id_token(provider.token(), nonce=NONCE)
    assert claims["sub"] == "anna"
    assert provider.fetches == 2


async def test_the_authorization_request_carries_state_nonce_and_an_s256_challenge(
    client: OidcClient,
) -> None:
    url, pending = await client.start("https://web/logga-in/klar", "/")
    query = httpx.URL(url).params
    assert query["state"] == pending.state
    assert query["nonce"] == pending.nonce
    assert query["code_challenge_method"] == "S256"
    assert query["code_challenge"] and query["code_challenge"] != pending.code_verifier
    assert query["client_id"] == CLIENT and query["response_type"] == "code"
    assert "openid" in query["scope"].split()


def test_production_refuses_to_start_without_a_provider() -> None:
    settings = Settings(
        env="production",
        jwt_secret="a-real-secret-of-production-length-0123456789",
        payload_key="cHJvZHVjdGlvbi1wYXlsb2FkLWtleS0zMi1ieXRlcyE=",
    )
    with pytest.raises(ValueError, match="LIFECARE_OIDC_ISSUER"):
        check_configured(settings)
    with pytest.raises(ValueError, match="LIFECARE_OIDC_ISSUER"):
        build(settings)


def test_empty_provider_settings_are_unset_and_a_bad_issuer_is_refused(monkeypatch) -> None:
    # docker-compose passes an unset LIFECARE_OIDC_ISSUER on as ""
    monkeypatch.setenv("LIFECARE_OIDC_ISSUER", "")
    monkeypatch.setenv("LIFECARE_OIDC_CLIENT_SECRET", "")
    assert Settings(env="test").oidc_issuer is None
    monkeypatch.setenv("LIFECARE_OIDC_ISSUER", "login.example")  # no scheme
    with pytest.raises(ValueError, match="not a service URL"):
        Settings(env="test")
    monkeypatch.delenv("LIFECARE_OIDC_ISSUER")
    monkeypatch.setenv("LIFECARE_OIDC_SCOPES", "profile email")  # without openid
    with pytest.raises(ValueError, match="oidc_scopes"):
        Settings(env="test")


# --- the callback, with the provider and the identity service answered here -----------------


def flow(provider: Provider, identity: Any) -> httpx.MockTransport:
    """The provider (discovery, keys, a token endpoint that signs the nonce it was given),
    and the identity service answered by `identity`."""
    sent: dict[str, str] = {}

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.host == "idp.example" and request.url.path == "/token":
            form = dict(httpx.QueryParams(request.content.decode()))
            assert form["code"] == "the-code" and form["code_verifier"]
            token = provider.token(nonce=sent["nonce"])
            return httpx.Response(
                200, json={"access_token": "at", "token_type": "Bearer", "id_token": token}
            )
        if request.url.host == "idp.example":
            return provider.handle(request)
        return identity(request)

    transport = httpx.MockTransport(handle)
    transport.sent = sent  # type: ignore[attr-defined]
    return transport


async def signed_in_at_provider(identity: Any) -> httpx.Response:
    provider = Provider()
    transport = flow(provider, identity)
    settings = Settings(
        env="test", oidc_issuer=ISSUER, oidc_client_id=CLIENT, oidc_client_secret="s"
    )
    app = build(settings, transport=transport)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="https://web"
        ) as browser:
            started = await browser.get("/logga-in")
            assert started.status_code == 303
            assert started.headers["location"].startswith(f"{ISSUER}/auth?")
            state = httpx.URL(started.headers["location"]).params["state"]
            session = await app.state.sessions.load(browser.cookies["lifecare_session"])
            transport.sent["nonce"] = session.pending.nonce  # type: ignore[attr-defined]
            return await browser.get(f"/logga-in/klar?code=the-code&state={state}")


async def test_the_callback_asks_the_identity_service_and_goes_on_to_the_choice() -> None:
    def identity(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/people/anna/memberships"
        assert request.headers["authorization"].startswith("Bearer ")
        held = {
            "id": "00000000-0000-0000-0000-000000000001",
            "role": "caseworker",
            "unit": None,
            "valid_from": "2026-01-01",
            "valid_to": None,
        }
        return httpx.Response(200, json={"sub": "anna", "name": "Anna A", "memberships": [held]})

    answer = await signed_in_at_provider(identity)
    assert (answer.status_code, answer.headers["location"]) == (303, "/val")


async def test_someone_the_identity_service_does_not_know_gets_the_no_access_page() -> None:
    def identity(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"error": {"code": "no_membership", "message": "none"}})

    answer = await signed_in_at_provider(identity)
    assert answer.status_code == 403
    assert "Du har ingen behörighet i Lifecare" in answer.text
    assert "Logga ut" in answer.text


async def test_an_identity_service_that_does_not_answer_is_a_503_that_says_which() -> None:
    def identity(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    answer = await signed_in_at_provider(identity)
    assert answer.status_code == 503
    assert "inloggning och behörigheter" in answer.text


def test_the_development_provider_refuses_to_run_in_production() -> None:
    server = Path(__file__).resolve().parents[3] / "deploy" / "dev-idp" / "server.js"
    ran = subprocess.run(
        ["node", str(server), "--client-secret", "s", "--redirect-uri", "http://x/cb"],
        env={**os.environ, "NODE_ENV": "production"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert ran.returncode == 2
    assert "refused with NODE_ENV=production" in ran.stderr
