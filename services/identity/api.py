"""Routes of the identity service: memberships (who may sign in as what, where), the
platform's tokens and the keys that verify them."""

from __future__ import annotations

import hmac
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.common.auth import MAX_SUB, MAX_UNIT, Role
from services.common.dates import today_in_stockholm
from services.common.deps import AppSettings, Caller, Pool, RequestId
from services.common.errors import Unauthorized
from services.identity import domain, keys, service
from services.identity.repository import Membership as MembershipRow
from services.identity.schemas import (
    Held,
    Jwks,
    Membership,
    MembershipEnd,
    MembershipIn,
    PersonMemberships,
    TokenIn,
    TokenOut,
)

router = APIRouter(tags=["identity"])

_client_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ServiceCredential",
    description="The web UI's credential (LIFECARE_IDENTITY_CLIENT_SECRET)",
)


async def _service_client(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_client_bearer)],
) -> None:
    """Only the web UI, by its shared credential, asks for a person's memberships and tokens."""
    secret = request.app.state.settings.identity_client_secret.get_secret_value()
    given = credentials.credentials if credentials is not None else ""
    if not hmac.compare_digest(given.encode(), secret.encode()):
        raise Unauthorized(
            "send the web UI's service credential as a bearer token", code="client_unauthorized"
        )


async def _signing(request: Request) -> keys.SigningKeys:
    return request.app.state.signing_keys


ServiceClient = Annotated[None, Depends(_service_client)]
Signing = Annotated[keys.SigningKeys, Depends(_signing)]
UnitPath = Annotated[str, Path(min_length=1, max_length=MAX_UNIT)]
SubPath = Annotated[str, Path(min_length=1, max_length=MAX_SUB)]


def _membership(row: MembershipRow) -> Membership:
    current = domain.Window(row.valid_from, row.valid_to).current_on(today_in_stockholm())
    return Membership(**row.as_dict(), unit=row.unit_id, current=current)


@router.get("/units/{unit}/memberships", response_model=list[Membership])
async def unit_memberships(unit: UnitPath, caller: Caller, pool: Pool) -> list[Membership]:
    """Who has access to the unit, today or from a later day (its unit_admin, an admin)."""
    rows = await service.unit_memberships(pool, caller, unit=unit)
    return [_membership(row) for row in rows]


@router.post("/memberships", status_code=201, response_model=Membership)
async def add_membership(
    body: MembershipIn, caller: Caller, pool: Pool, request_id: RequestId
) -> Membership:
    """Give a person a role, at a unit for provider and unit_admin (a unit_admin: those two
    roles at its own unit; an admin: any)."""
    row = await service.add_membership(
        pool,
        caller,
        request_id,
        sub=body.sub,
        name=body.name,
        role=body.role,
        unit=body.unit,
        valid_from=body.valid_from,
        valid_to=body.valid_to,
    )
    return _membership(row)


@router.post("/memberships/{membership_id}/end", response_model=Membership)
async def end_membership(
    membership_id: uuid.UUID, body: MembershipEnd, caller: Caller, pool: Pool, request_id: RequestId
) -> Membership:
    """End a membership on its last day (same rules as adding it)."""
    row = await service.end_membership(
        pool, caller, request_id, membership_id, valid_to=body.valid_to
    )
    return _membership(row)


@router.get("/people/{sub}/memberships", response_model=PersonMemberships)
async def person_memberships(sub: SubPath, _client: ServiceClient, pool: Pool) -> PersonMemberships:
    """The person's memberships valid today, for the web UI's choice of role and unit (the
    web UI's credential); 404 `no_membership` for a person with none."""
    person, rows = await service.current_of(pool, sub=sub)
    return PersonMemberships(
        sub=person.sub,
        name=person.name,
        memberships=[
            Held(
                id=row.id,
                role=Role(row.role),
                unit=row.unit_id,
                valid_from=row.valid_from,
                valid_to=row.valid_to,
            )
            for row in rows
        ],
    )


@router.post("/tokens", response_model=TokenOut)
async def issue_token(
    body: TokenIn,
    _client: ServiceClient,
    pool: Pool,
    signing: Signing,
    settings: AppSettings,
    request_id: RequestId,
) -> TokenOut:
    """A platform token (ES256, at most 15 minutes) for the role and unit the person chose,
    if the membership is current (the web UI's credential)."""
    issued = await service.issue_token(
        pool, signing, settings, request_id, sub=body.sub, role=body.role, unit=body.unit
    )
    return TokenOut(
        access_token=issued.token, expires_in=issued.expires_in, expires_at=issued.expires_at
    )


@router.get("/.well-known/jwks.json", response_model=Jwks, tags=["keys"])
async def jwks(signing: Signing, response: Response) -> Jwks:
    """The public keys that verify the platform's tokens: the current one and those of
    earlier rotations not yet removed (no auth)."""
    response.headers["Cache-Control"] = "public, max-age=300"
    return Jwks.model_validate(signing.jwks())
