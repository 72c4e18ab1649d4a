"""JWT authentication: who is calling, in which role and for which unit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import jwt

from services.common.errors import Forbidden, Unauthorized
from services.common.settings import Settings


class Role(StrEnum):
    caseworker = "caseworker"
    provider = "provider"
    coordinator = "coordinator"
    fee_admin = "fee_admin"
    admin = "admin"


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
    if role == Role.provider and not unit:
        raise ValueError("a provider token needs a unit")
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
    try:
        role = Role(claims["role"])
    except ValueError as exc:
        raise Unauthorized(f"unknown role {claims['role']!r}", code="token_invalid") from exc
    sub = _claim_text(claims, "sub", MAX_SUB, required=True) or ""
    name = _claim_text(claims, "name", MAX_NAME) or ""
    unit = _claim_text(claims, "unit", MAX_UNIT)
    if role == Role.provider and not unit:
        raise Unauthorized("a provider token must name its unit", code="token_invalid")
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
