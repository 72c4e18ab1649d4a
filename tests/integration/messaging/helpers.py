"""Steps the messaging tests share: people, and what a user does in the inbox."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx

from services.common.auth import issue_token
from services.common.settings import Settings


@dataclass(frozen=True)
class Person:
    """Someone with a token of their own: a fresh sub, a name, a role (and unit)."""

    sub: str
    name: str
    headers: dict[str, str]

    @property
    def mailbox(self) -> str:
        return f"user:{self.sub}"


class People:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def __call__(self, role: str, name: str, unit: str | None = None) -> Person:
        sub = f"{name.split()[0].lower()}-{uuid.uuid4().hex[:6]}"
        token = issue_token(self.settings, sub=sub, name=name, role=role, unit=unit)
        return Person(sub=sub, name=name, headers={"Authorization": f"Bearer {token}"})


async def upload(
    client: httpx.AsyncClient, who: Person, filename: str, data: bytes
) -> httpx.Response:
    """Upload a file; its declared type says nothing, the service judges the content."""
    return await client.post(
        "/attachments",
        files={"file": (filename, data, "application/octet-stream")},
        headers=who.headers,
    )


async def send(
    client: httpx.AsyncClient,
    who: Person,
    to: list[str],
    subject: str,
    body: str = "",
    attachment_ids: list[str] | None = None,
) -> dict:
    response = await client.post(
        "/messages",
        json={"to": to, "subject": subject, "body": body, "attachment_ids": attachment_ids or []},
        headers=who.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def inbox(client: httpx.AsyncClient, who: Person) -> dict[str, dict]:
    """The caller's inbox by message id."""
    response = await client.get("/messages", params={"folder": "inbox"}, headers=who.headers)
    assert response.status_code == 200, response.text
    return {m["id"]: m for m in response.json()}


async def badge(client: httpx.AsyncClient, who: Person) -> int:
    response = await client.get("/messages/unread-count", headers=who.headers)
    assert response.status_code == 200, response.text
    return response.json()["unread"]
