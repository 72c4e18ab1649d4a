"""The identity service as the web UI asks it: a signed-in person's memberships, and the
platform's token (ES256, at most 15 minutes) for the role and unit they chose, renewed
shortly before it expires while the session lives."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import httpx

from services.common.auth import Role, issue_token
from services.common.settings import Settings
from services.web.client import Api, ApiError, ServiceDown, _refusal
from services.web.people import Membership, Person
from services.web.session import Session

IDENTITY = "identity"
# the development token of the demo sign-in (no OIDC provider configured; never production)
DEMO_TOKEN_TTL = timedelta(minutes=15)


class NoMembership(Exception):
    """The person holds no current membership (or not the chosen one any more)."""


class Identity:
    """Calls to the identity service with the web UI's credential, over the web UI's pool."""

    def __init__(self, settings: Settings, api: Api) -> None:
        self.url = settings.identity_url
        self.http = api.http
        self.credential = settings.identity_client_secret.get_secret_value()

    async def _call(
        self, method: str, path: str, json: Any = None, *, token: str | None = None
    ) -> Any:
        """A call with the web UI's credential, or with a person's `token` (their own
        rights at the identity service: a unit_admin's pages)."""
        bearer = token or self.credential
        try:
            response = await self.http.request(
                method, self.url + path, json=json, headers={"Authorization": f"Bearer {bearer}"}
            )
        except httpx.HTTPError as exc:
            raise ServiceDown(IDENTITY) from exc
        if response.status_code >= 500:
            raise ServiceDown(IDENTITY)
        if response.status_code >= 400:
            raise _refusal(response)
        return response.json()

    async def person(self, sub: str, name: str = "") -> Person:
        """The person and the memberships valid today; NoMembership for one with none."""
        try:
            answer = await self._call("GET", f"/people/{_path(sub)}/memberships")
        except ApiError as exc:
            if exc.status == 404:
                raise NoMembership() from exc
            raise
        memberships = tuple(
            Membership(Role(m["role"]), m.get("unit")) for m in answer["memberships"]
        )
        return Person(sub=answer["sub"], name=answer["name"] or name, memberships=memberships)

    async def token(self, person: Person, membership: Membership) -> tuple[str, float]:
        """The platform's token for the person in this role (and unit), and when it
        expires (epoch seconds); NoMembership when they no longer hold it."""
        body = {"sub": person.sub, "role": membership.role.value, "unit": membership.unit}
        try:
            answer = await self._call("POST", "/tokens", body)
        except ApiError as exc:
            if exc.status in (403, 404):
                raise NoMembership() from exc
            raise
        return str(answer["access_token"]), time.time() + float(answer["expires_in"])

    async def as_person(self, token: str, method: str, path: str, json: Any = None) -> Any:
        """A call in the signed-in person's name (ApiError for a refusal)."""
        return await self._call(method, path, json, token=token)


def _path(sub: str) -> str:
    return quote(sub, safe="")


async def renew(state: Any, session: Session) -> None:
    """Give the session a fresh token for its person and chosen membership: the identity
    service's (NoMembership when the membership has ended), or without an identity provider
    configured (development and test only) a development token made here. `state` is the
    app's state: its settings, and its OIDC client when one is configured."""
    assert session.person is not None and session.membership is not None
    settings: Settings = state.settings
    if state.oidc is not None:
        session.token, session.token_expires = await state.identity.token(
            session.person, session.membership
        )
        return
    assert settings.env != "production"
    session.token = issue_token(
        settings,
        sub=session.person.sub,
        name=session.person.name,
        role=session.membership.role,
        unit=session.membership.unit,
        ttl=DEMO_TOKEN_TTL,
    )
    session.token_expires = time.time() + DEMO_TOKEN_TTL.total_seconds()
