"""The messaging API over HTTP (ASGI in process) with its consumer on the real RabbitMQ;
people with names of their own; a unit the messaging service knows."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from services.common.settings import Settings
from tests.integration.conftest import wait_for
from tests.integration.helpers import new_unit
from tests.integration.messaging.helpers import People


@pytest.fixture
async def messaging_http(messaging_app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=messaging_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://messaging") as client:
        yield client


@pytest.fixture(scope="session")
def person(settings: Settings) -> People:
    return People(settings)


@pytest.fixture
async def known_unit(http, as_, messaging_http):
    """A new provider unit whose mailbox the messaging service has learnt from `unit.created`."""
    unit_id = await new_unit(http, as_("admin"))

    async def found():
        response = await messaging_http.get(
            "/mailboxes", params={"q": unit_id}, headers=as_("provider", unit=unit_id)
        )
        return [m for m in response.json() if m["id"] == f"unit:{unit_id}"]

    await wait_for(found)
    return unit_id
