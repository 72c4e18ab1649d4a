"""The absence API over HTTP (ASGI in process) with its stays consumer, and the event bridge
that signals absence events to the lifecycles, on the real RabbitMQ and Temporal."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

import aio_pika
import asyncpg
import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from services.absence.main import build as build_absence
from services.common.bus import EventConsumer, declare_queue
from services.common.settings import Settings
from services.orders.domain import today_in_stockholm
from tests.integration.helpers import new_customer, new_order, new_unit
from workflows.bridge import AbsenceBridge

# A registration waits this long for a stay it does not know yet (event lag), then says 404.
STAY_WAIT = timedelta(seconds=3)


async def _declare_queues(settings: Settings, consumers: list[EventConsumer]) -> None:
    """Declare the consumers' queues before any test runs, so they miss no event after it."""
    connection = await aio_pika.connect_robust(str(settings.amqp_url))
    async with connection:
        channel = await connection.channel()
        for consumer in consumers:
            await declare_queue(
                channel, consumer.queue_name, sorted(consumer.handlers), expires=consumer.expires
            )


@pytest.fixture(scope="session")
async def bridge(
    temporal: WorkflowEnvironment, settings: Settings, pool: asyncpg.Pool
) -> AsyncIterator[AbsenceBridge]:
    """The event bridge as the worker process runs it."""
    bridge = AbsenceBridge(temporal.client, settings, pool)
    await _declare_queues(settings, [bridge])
    task = asyncio.create_task(bridge.run())
    yield bridge
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


@pytest.fixture(scope="session")
def absence_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"absence_stay_wait": STAY_WAIT})


@pytest.fixture(scope="session")
async def absence_app(absence_settings: Settings, orders_app, worker, bridge):
    app = build_absence(absence_settings)
    async with app.router.lifespan_context(app):
        await _declare_queues(absence_settings, app.state.consumers)
        yield app


@pytest.fixture
async def absence_http(absence_app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=absence_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://absence") as client:
        yield client


@pytest.fixture
async def stay(http, as_, absence_http) -> dict:
    """A customer who moved into a new unit 60 days ago, with callers for that unit."""
    admin, caseworker = as_("admin"), as_("caseworker")
    unit = await new_unit(http, admin)
    provider = as_("provider", unit=unit, sub="anna")
    customer = await new_customer(http, caseworker)
    today = today_in_stockholm()
    order = await new_order(http, caseworker, customer, unit, today - timedelta(days=70))
    start = today - timedelta(days=60)
    confirmed = await http.post(
        f"/orders/{order['id']}/confirm", json={"start_date": str(start)}, headers=provider
    )
    assert confirmed.status_code == 200, confirmed.text
    return {
        "unit": unit,
        "provider": provider,
        "customer": customer,
        "order": confirmed.json(),
        "start": start,
        "today": today,
    }
