"""Request and response bodies of the identity API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from services.common.auth import MAX_NAME, MAX_SUB, MAX_UNIT, Role
from services.common.text import Day, one_line


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


Sub = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_SUB),
    AfterValidator(one_line),
]
"""The identity provider's subject of a person."""

PersonName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME),
    AfterValidator(one_line),
]
UnitId = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_UNIT, pattern=r"^[a-z0-9][a-z0-9_-]*$")
]


class MembershipIn(Strict):
    sub: Sub = Field(description="The identity provider's subject of the person")
    name: PersonName = Field(examples=["Anna Andersson"])
    role: Role
    unit: UnitId | None = Field(default=None, description="Required for provider, unit_admin")
    valid_from: Day | None = Field(default=None, description="The first day; today if left out")
    valid_to: Day | None = Field(default=None, description="The last day; open if left out")


class MembershipEnd(Strict):
    valid_to: Day = Field(description="The membership's last day")


class Membership(BaseModel):
    id: uuid.UUID
    sub: str
    name: str
    role: Role
    unit: str | None
    valid_from: date
    valid_to: date | None
    current: bool = Field(description="Whether it lets the person in today")
    created_by: str
    created_at: datetime
    ended_by: str | None
    ended_at: datetime | None


class Held(BaseModel):
    """One role (at one unit) a person may choose at sign-in."""

    id: uuid.UUID
    role: Role
    unit: str | None
    valid_from: date
    valid_to: date | None


class PersonMemberships(BaseModel):
    sub: str
    name: str
    memberships: list[Held]


class TokenIn(Strict):
    sub: Sub
    role: Role
    unit: UnitId | None = None


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(description="Seconds the token is valid")
    expires_at: datetime


class Jwk(BaseModel):
    kty: str
    crv: str
    x: str
    y: str
    kid: str
    use: str
    alg: str


class Jwks(BaseModel):
    keys: list[Jwk]
