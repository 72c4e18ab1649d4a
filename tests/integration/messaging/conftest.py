"""The messaging API over HTTP (ASGI in process) with its consumer on the real RabbitMQ;
people with names of their own; a unit the messaging service knows."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aio_pika
import httpx
import pytest

from services.common.bus import declare_queue
from services.common.settings import Settings
from services.messaging.main import build as build_messaging
from tests.integration.conftest import wait_for
from tests.integration.helpers import new_unit
from tests.integration.messaging.helpers import People


@pytest.fixture(scope="session")
async def messaging_app(settings: Settings):
    app = build_messaging(settings)
    async with app.router.lifespan_context(app):
        await _declare_queues(app, settings)
        yield app


async def _declare_queues(app, settings: Settings) -> None:
    """Declare the consumer's queue before the tests start, so it misses no event after it."""
    connection = await aio_pika.connect_robust(str(settings.amqp_url))
    async with connection:
        channel = await connection.channel()
        for consumer in app.state.consumers:
            await declare_queue(
                channel, consumer.queue_name, sorted(consumer.handlers), expires=consumer.expires
            )


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
