"""Signing in through an OpenID Connect provider: the authorization code flow with PKCE.

Authlib makes the authorization request (state, nonce, an S256 code challenge) and swaps the
code for tokens at the provider's token endpoint; joserfc (Authlib's JOSE library) verifies
the ID token against the provider's published keys: its signature, `iss` (the provider's),
`aud` (our client id), `exp` and the `nonce` this browser's session was given. Everything
the flow keeps (state, nonce, code verifier, the tokens) stays in the server-side session.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oauth2 import OAuth2Error
from joserfc import jws, jwt
from joserfc.errors import ExpiredTokenError, InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from services.common.settings import Settings

log = logging.getLogger(__name__)

# the signature algorithms an ID token may use: never `none`, never a shared secret
ALGORITHMS = ("RS256", "PS256", "ES256", "EdDSA")
LEEWAY_SECONDS = 60
# the discovery document and keys are kept this long; a token naming a key the set lacks
# fetches the keys again at most this often (a rotation is seen at once)
METADATA_MAX_AGE = 3600.0
KEYS_REFETCH_AFTER = 10.0
CALLBACK_PATH = "/logga-in/klar"


class SignInFailed(Exception):
    """The provider's answer proves nobody: `reason` for the log (never personal data)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ProviderDown(Exception):
    """The identity provider did not answer."""


@dataclass
class Pending:
    """A started sign-in: what the callback must match, kept in the session."""

    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str
    back: str  # the local page to go on to afterwards


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in."""

    sub: str
    name: str
    id_token: str


def check_configured(settings: Settings) -> None:
    """The web UI in production signs in through a provider only: refuse to start without
    one (development and test without one show a page saying sign-in is not configured)."""
    if settings.env != "production":
        return
    missing = [
        f"LIFECARE_{name.upper()}"
        for name in ("oidc_issuer", "oidc_client_secret", "oidc_redirect_url")
        if getattr(settings, name) is None
    ]
    if missing:
        raise ValueError(
            f"{', '.join(missing)} not set: in production the web UI signs people in through "
            "an OpenID Connect provider (see README, Signing in)"
        )


class OidcClient:
    """The web UI as a client of one OpenID Connect provider."""

    def __init__(
        self,
        settings: Settings,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Any = time.monotonic,
    ) -> None:
        assert settings.oidc_issuer is not None
        self.issuer = settings.oidc_issuer
        self.client_id = settings.oidc_client_id
        secret = settings.oidc_client_secret
        self.client_secret = secret.get_secret_value() if secret else None
        self.scopes = settings.oidc_scopes
        self.redirect_url = settings.oidc_redirect_url
        self.timeout = settings.peer_timeout.total_seconds()
        self.transport = transport
        self.http = httpx.AsyncClient(timeout=self.timeout, transport=transport)
        self._clock = clock
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None
        self._keys_at = 0.0
        self._lock = asyncio.Lock()

    async def close(self) -> None:
        await self.http.aclose()

    # --- the provider's discovery document and keys ----------------------------------------

    async def _get(self, url: str) -> Any:
        try:
            response = await self.http.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("oidc: fetching %s failed: %s", url, type(exc).__name__)
            raise ProviderDown() from exc

    async def metadata(self) -> dict[str, Any]:
        """The provider's discovery document, fetched and kept for an hour."""
        if self._metadata is None or self._clock() - self._metadata_at > METADATA_MAX_AGE:
            document = await self._get(f"{self.issuer}/.well-known/openid-configuration")
            named = document.get("issuer") if isinstance(document, dict) else None
            if str(named or "").rstrip("/") != self.issuer:
                log.warning("oidc: the discovery document names another issuer")
                raise ProviderDown()
            for needed in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(document.get(needed), str):
                    log.warning("oidc: the discovery document lacks %s", needed)
                    raise ProviderDown()
            self._metadata, self._metadata_at = document, self._clock()
        return self._metadata

    def _keys_due(self, kid: str | None) -> bool:
        now = self._clock()
        if self._keys is None or now - self._keys_at > METADATA_MAX_AGE:
            return True
        lacks = kid is not None and not _has_kid(self._keys, kid)
        return lacks and now - self._keys_at > KEYS_REFETCH_AFTER

    async def _key_set(self, kid: str | None) -> KeySet:
        """The provider's keys; fetched again when old, or when they lack `kid` (at most
        once per KEYS_REFETCH_AFTER, and once for requests that ask at the same time)."""
        if self._keys_due(kid):
            async with self._lock:
                if self._keys_due(kid):
                    metadata = await self.metadata()
                    document = await self._get(metadata["jwks_uri"])
                    try:
                        self._keys = KeySet.import_key_set(document)
                    except (JoseError, ValueError, TypeError, KeyError) as exc:
                        log.warning("oidc: the provider's keys cannot be read")
                        raise ProviderDown() from exc
                    self._keys_at = self._clock()
        assert self._keys is not None
        return self._keys

    # --- the flow --------------------------------------------------------------------------

    def _client(self, redirect_uri: str) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self.client_id,
            client_secret=self.client_secret,
            scope=self.scopes,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            timeout=self.timeout,
            transport=self.transport,
        )

    async def start(self, redirect_uri: str, back: str) -> tuple[str, Pending]:
        """The provider's URL to send the browser to, and what the callback must match."""
        metadata = await self.metadata()
        pending = Pending(
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            code_verifier=secrets.token_urlsafe(48),
            redirect_uri=self.redirect_url or redirect_uri,
            back=back,
        )
        async with self._client(pending.redirect_uri) as client:
            url, _ = client.create_authorization_url(
                metadata["authorization_endpoint"],
                state=pending.state,
                code_verifier=pending.code_verifier,
                nonce=pending.nonce,
                # a care home's shared computer: whoever signs in next proves who they are,
                # even if the provider still remembers the last person
                prompt="login",
            )
        return str(url), pending

    async def finish(self, pending: Pending, code: str) -> Identity:
        """Swap the callback's code for tokens and verify the ID token."""
        metadata = await self.metadata()
        async with self._client(pending.redirect_uri) as client:
            try:
                token = await client.fetch_token(
                    metadata["token_endpoint"],
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=pending.code_verifier,
                )
            except OAuth2Error as exc:
                raise SignInFailed(f"the token endpoint refused the code: {exc.error}") from exc
            except httpx.HTTPError as exc:
                log.warning("oidc: the token endpoint: %s", type(exc).__name__)
                raise ProviderDown() from exc
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise SignInFailed("the token endpoint gave no ID token")
        claims = await self.verify_id_token(id_token, nonce=pending.nonce)
        name = claims.get("name")
        return Identity(
            sub=claims["sub"], name=name if isinstance(name, str) else "", id_token=id_token
        )

    async def verify_id_token(self, id_token: str, *, nonce: str) -> dict[str, Any]:
        """The ID token's claims, once its signature, issuer, audience, expiry and nonce
        are right; SignInFailed saying which is not."""
        metadata = await self.metadata()
        try:
            kid = jws.extract_compact(id_token.encode()).protected.get("kid")
        except (JoseError, ValueError) as exc:
            raise SignInFailed("the ID token is not a JWS") from exc
        keys = await self._key_set(kid if isinstance(kid, str) else None)
        try:
            token = jwt.decode(id_token, keys, algorithms=list(ALGORITHMS))
        except InvalidKeyIdError as exc:
            raise SignInFailed("the ID token names a key the provider does not publish") from exc
        except JoseError as exc:
            raise SignInFailed(f"the ID token's signature is not valid ({exc.error})") from exc
        registry = jwt.JWTClaimsRegistry(
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": metadata["issuer"]},
            aud={"essential": True, "value": self.client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        try:
            registry.validate(token.claims)
        except ExpiredTokenError as exc:
            raise SignInFailed("the ID token has expired") from exc
        except JoseError as exc:
            raise SignInFailed(f"the ID token's claims are not right ({exc.error}: {exc})") from exc
        if not str(token.claims["sub"]).strip():
            raise SignInFailed("the ID token's sub is empty")
        audience = token.claims["aud"]
        if (
            isinstance(audience, list)
            and len(audience) > 1
            and token.claims.get("azp") != (self.client_id)
        ):
            raise SignInFailed("the ID token is for several audiences, and azp is not ours")
        return token.claims


def _has_kid(keys: KeySet, kid: str) -> bool:
    try:
        keys.get_by_kid(kid)
    except InvalidKeyIdError:
        return False
    return True
