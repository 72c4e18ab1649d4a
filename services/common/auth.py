"""JWT authentication: who is calling, in which role and for which unit.

Two kinds of token: the platform's own (ES256, issued by the identity service after the
person chose role and unit, verified against its JWKS: `TokenVerifier`), and development
tokens (HS256 with LIFECARE_JWT_SECRET, `lifecare token`: `issue_token`, `decode_token`),
which production refuses."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import httpx
import jwt

from services.common.errors import Forbidden, Unauthorized, Unavailable
from services.common.settings import MAX_ACCESS_TOKEN_TTL, Settings

log = logging.getLogger(__name__)


class Role(StrEnum):
    caseworker = "caseworker"
    provider = "provider"
    coordinator = "coordinator"
    fee_admin = "fee_admin"
    admin = "admin"
    unit_admin = "unit_admin"

    @property
    def needs_unit(self) -> bool:
        """Whether a token of this role must name its unit (provider, unit_admin)."""
        return self in UNIT_ROLES


# the roles that act at one unit: their tokens and memberships name it
UNIT_ROLES = frozenset({Role.provider, Role.unit_admin})
# the roles that work with customers' data; a unit_admin administers access, nothing else
STAFF_ROLES = (Role.caseworker, Role.provider, Role.coordinator, Role.fee_admin, Role.admin)


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    sub: str
    name: str
    role: Role
    unit: str | None = None

    def require(self, *roles: Role) -> None:
        """Refuse with 403 unless the caller has one of `roles`."""
        if self.role not in roles:
            allowed = ", ".join(roles)
            raise Forbidden(f"this needs the role {allowed}; you are {self.role}")

    @property
    def provider_unit(self) -> str | None:
        """The unit a provider is limited to; None for roles that see every unit."""
        return self.unit if self.role == Role.provider else None


def issue_token(
    settings: Settings,
    *,
    sub: str,
    name: str,
    role: Role | str,
    unit: str | None = None,
    ttl: timedelta | None = None,
) -> str:
    """A signed development token (HS256 with LIFECARE_JWT_SECRET)."""
    role = Role(role)
    if role.needs_unit and not unit:
        raise ValueError(f"a {role.value} token needs a unit")
    claims: dict[str, object] = {
        "sub": sub,
        "name": name,
        "role": role.value,
        "exp": datetime.now(UTC) + (ttl or settings.token_ttl),
    }
    if unit:
        claims["unit"] = unit
    return jwt.encode(
        claims, settings.jwt_secret.get_secret_value(), algorithm=settings.jwt_algorithm
    )


def decode_token(settings: Settings, token: str) -> Principal:
    """Verify a token and return its principal; 401 if it is missing, forged or expired."""
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=[settings.jwt_algorithm],
            options={"require": ["sub", "role", "exp"]},
        )
    except jwt.exceptions.InvalidSubjectError as exc:
        raise Unauthorized("the claim 'sub' must be a string", code="token_invalid") from exc
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("the token has expired", code="token_expired") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized("the token is not valid", code="token_invalid") from exc
    return principal_of(claims)


def principal_of(claims: dict[str, object]) -> Principal:
    """The caller a verified token's claims name, each claim checked strictly (401)."""
    try:
        role = Role(claims["role"])  # type: ignore[arg-type]
    except (ValueError, TypeError) as exc:
        raise Unauthorized(f"unknown role {claims['role']!r}", code="token_invalid") from exc
    sub = _claim_text(claims, "sub", MAX_SUB, required=True) or ""
    name = _claim_text(claims, "name", MAX_NAME) or ""
    unit = _claim_text(claims, "unit", MAX_UNIT)
    if role.needs_unit and not unit:
        raise Unauthorized(f"a {role.value} token must name its unit", code="token_invalid")
    return Principal(sub=sub, name=name, role=role, unit=unit)


# the longest subject, name and unit id a token may carry
MAX_SUB = 255
MAX_NAME = 200
MAX_UNIT = 64


def _claim_text(
    claims: dict[str, object], claim: str, limit: int, *, required: bool = False
) -> str | None:
    """A claim that must be a short string: a list, a number or an object as `unit`, an
    empty or whitespace-only `sub`, or one over `limit` characters is a 401 naming it."""
    value = claims.get(claim)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise Unauthorized(f"the claim {claim!r} must be a string", code="token_invalid")
    if required and not value.strip():
        raise Unauthorized(f"the claim {claim!r} is empty", code="token_invalid")
    if len(value) > limit:
        raise Unauthorized(
            f"the claim {claim!r} is longer than {limit} characters", code="token_invalid"
        )
    return value


# --- the platform's tokens: ES256, verified against the identity service's JWKS --------------

PLATFORM_ALGORITHM = "ES256"
# the clock skew a platform token's exp, nbf and iat are read with
LEEWAY = timedelta(seconds=60)
# a fetched key set is used this long before it is fetched again, and a token naming a key
# the set lacks fetches it again at most this often (a rotation is seen at once; a flood of
# made-up kids costs the identity service one request per interval)
JWKS_MAX_AGE = 300.0
JWKS_REFETCH_AFTER = 10.0

Fetch = Callable[[str], Awaitable[Any]]


async def fetch_jwks(url: str) -> Any:
    """The JSON of a JWKS document over HTTP."""
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(url, headers={"Accept": "application/json"})
        response.raise_for_status()
        return response.json()


def read_jwks(document: Any) -> dict[str, jwt.PyJWK]:
    """The signing keys of a JWKS by kid; keys without a kid, of another algorithm or not
    for signatures are left out."""
    keys: dict[str, jwt.PyJWK] = {}
    entries = document.get("keys") if isinstance(document, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
            continue
        if entry.get("use", "sig") != "sig" or entry.get("alg", PLATFORM_ALGORITHM) != (
            PLATFORM_ALGORITHM
        ):
            continue
        try:
            keys[entry["kid"]] = jwt.PyJWK(entry, algorithm=PLATFORM_ALGORITHM)
        except jwt.PyJWTError:
            log.warning("jwks: left out the key %r, which is not an ES256 key", entry["kid"])
    return keys


class JwksCache:
    """The identity service's public keys, fetched from its JWKS and kept for a while."""

    def __init__(
        self,
        url: str,
        *,
        fetch: Fetch = fetch_jwks,
        clock: Callable[[], float] = time.monotonic,
        max_age: float = JWKS_MAX_AGE,
        refetch_after: float = JWKS_REFETCH_AFTER,
    ) -> None:
        self.url = url
        self._fetch = fetch
        self._clock = clock
        self._max_age = max_age
        self._refetch_after = refetch_after
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None  # the last fetch that succeeded
        self._tried_at: float | None = None  # the last fetch, whether or not it succeeded
        self._lock = asyncio.Lock()
        self.fetches = 0

    def _due(self, kid: str, now: float) -> bool:
        if self._fetched_at is None or now - self._fetched_at >= self._max_age:
            return self._tried_at is None or now - self._tried_at >= min(
                self._refetch_after, self._max_age
            )
        if kid in self._keys:
            return False
        return self._tried_at is None or now - self._tried_at >= self._refetch_after

    async def key(self, kid: str) -> jwt.PyJWK:
        """The public key `kid` names; the set is fetched again when it is old or lacks the
        kid (at most once per interval). 401 for a kid the platform does not publish, 503
        when the keys cannot be fetched and the kid is not known from before."""
        if self._due(kid, self._clock()):
            async with self._lock:
                if self._due(kid, self._clock()):  # another request may have fetched it
                    await self._refresh()
        found = self._keys.get(kid)
        if found is not None:
            return found
        if self._fetched_at is None:
            raise Unavailable(
                "the platform's token keys cannot be fetched; try again shortly",
                code="jwks_unavailable",
            )
        raise Unauthorized(
            "the token is signed with a key the platform does not publish", code="token_invalid"
        )

    async def _refresh(self) -> None:
        self._tried_at = self._clock()
        self.fetches += 1
        try:
            keys = read_jwks(await self._fetch(self.url))
        except (httpx.HTTPError, ValueError) as exc:
            # the keys known from before keep verifying while the identity service is away
            log.warning("jwks: fetching %s failed: %s", self.url, type(exc).__name__)
            return
        self._keys = keys
        self._fetched_at = self._tried_at


def check_jwks_configured(settings: Settings) -> None:
    """A process that verifies tokens in production refuses to start without the JWKS URL
    (checked where tokens are verified, so the worker, which verifies none, needs none)."""
    if settings.env == "production" and settings.jwks_url is None:
        raise ValueError(
            "LIFECARE_JWKS_URL is not set: in production every service verifies the "
            "platform's tokens against the identity service's keys "
            "(e.g. https://identity.example/.well-known/jwks.json)"
        )


class TokenVerifier:
    """Reads the caller of a bearer token: a platform token (ES256) against the JWKS, with
    its issuer, audience, expiry and not-before checked; outside production also a
    development token (HS256, `decode_token`)."""

    def __init__(self, settings: Settings, *, jwks: JwksCache | None = None) -> None:
        check_jwks_configured(settings)
        self.settings = settings
        self.jwks = jwks or JwksCache(settings.jwks_location)

    async def verify(self, token: str) -> Principal:
        """The token's principal; 401 with the reason when it proves nothing."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized("the token is not valid", code="token_invalid") from exc
        if header.get("alg") == PLATFORM_ALGORITHM:
            return await self._platform(token, header)
        if self.settings.env == "production":
            raise Unauthorized(
                "production accepts only the platform's tokens (ES256, from the identity "
                "service); development tokens are refused",
                code="token_invalid",
            )
        return decode_token(self.settings, token)

    async def _platform(self, token: str, header: dict[str, Any]) -> Principal:
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthorized("the token names no key (kid)", code="token_invalid")
        key = await self.jwks.key(kid)
        settings = self.settings
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[PLATFORM_ALGORITHM],
                audience=settings.token_audience,
                issuer=settings.token_issuer,
                leeway=LEEWAY,
                options={"require": ["iss", "aud", "sub", "role", "iat", "nbf", "exp"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("the token has expired", code="token_expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise Unauthorized("the token is not valid yet", code="token_not_yet_valid") from exc
        except jwt.InvalidAudienceError as exc:
            raise Unauthorized(
                "the token is not meant for these services (aud)", code="token_invalid"
            ) from exc
        except jwt.InvalidIssuerError as exc:
            raise Unauthorized(
                "the token was not issued by this platform (iss)", code="token_invalid"
            ) from exc
        except jwt.MissingRequiredClaimError as exc:
            raise Unauthorized(
                f"the token lacks the claim {exc.claim!r}", code="token_invalid"
            ) from exc
        except jwt.exceptions.InvalidSubjectError as exc:
            raise Unauthorized("the claim 'sub' must be a string", code="token_invalid") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("the token is not valid", code="token_invalid") from exc
        lifetime = claims["exp"] - claims["iat"]
        if not isinstance(lifetime, int | float) or lifetime > (
            MAX_ACCESS_TOKEN_TTL.total_seconds()
        ):
            raise Unauthorized("a platform token lives at most 15 minutes", code="token_invalid")
        return principal_of(claims)
