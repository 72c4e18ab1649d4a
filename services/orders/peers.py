"""The other services, asked over HTTP for their part of a customer's audit log."""

from __future__ import annotations

import asyncio
import logging
import uuid

import httpx
from pydantic import TypeAdapter, ValidationError

from services.common.audit import AuditEntry
from services.common.settings import Settings

log = logging.getLogger(__name__)

_ENTRIES = TypeAdapter(list[AuditEntry])


def peer_urls(settings: Settings) -> dict[str, str]:
    """Each other service's base URL, by name."""
    return {
        "absence": settings.absence_url,
        "billing": settings.billing_url,
        "messaging": settings.messaging_url,
    }


async def audit_trails(
    settings: Settings, *, customer_id: uuid.UUID, authorization: str, request_id: str
) -> tuple[list[AuditEntry], dict[str, str]]:
    """Every other service's audit rows of the customer, and why each one that gave none
    did not (by service name); the caller's token and request id go along."""
    async with httpx.AsyncClient(
        timeout=settings.peer_timeout.total_seconds(),
        # the server's own id (the first word of an audit row's request id): each peer keeps
        # it as the correlation value of its own rows
        headers={"Authorization": authorization, "X-Request-ID": request_id.split(" ")[0]},
    ) as client:
        urls = peer_urls(settings)
        answers = await asyncio.gather(
            *(_trail(client, name, url, customer_id) for name, url in urls.items())
        )
    by_name = dict(zip(urls, answers, strict=True))
    entries = [entry for answer in answers if isinstance(answer, list) for entry in answer]
    missing = {name: answer for name, answer in by_name.items() if isinstance(answer, str)}
    return entries, missing


async def _trail(
    client: httpx.AsyncClient, name: str, url: str, customer_id: uuid.UUID
) -> list[AuditEntry] | str:
    """The service's rows, or what went wrong in a few words."""
    try:
        response = await client.get(f"{url}/audit", params={"customer_id": str(customer_id)})
    except httpx.TimeoutException:
        problem = "did not answer in time"
    except httpx.HTTPError as exc:
        problem = f"could not be reached ({type(exc).__name__})"
    else:
        if response.status_code != 200:
            problem = f"answered {response.status_code}"
        else:
            try:
                return _ENTRIES.validate_json(response.content)
            except ValidationError:
                problem = "answered something that is not an audit log"
    log.warning("audit log of %s: %s %s", name, url, problem)
    return problem
