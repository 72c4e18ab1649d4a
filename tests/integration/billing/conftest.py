"""The billing API over HTTP (ASGI in process) with its read-model consumer, beside the
orders and absence services, the worker (BillingRun) and the event bridge."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aio_pika
import httpx
import pytest

from services.billing.main import build as build_billing
from services.common.bus import declare_queue
from services.common.settings import Settings
from tests.integration.absence.conftest import (  # noqa: F401  (fixtures reused here)
    absence_app,
    absence_http,
    absence_settings,
    bridge,
)
from tests.integration.billing.helpers import TARIFFS


@pytest.fixture(scope="session")
async def billing_app(settings: Settings, orders_app, worker):
    """The billing service, its consumer's queue declared before any test sends an event."""
    app = build_billing(settings)
    async with app.router.lifespan_context(app):
        connection = await aio_pika.connect_robust(str(settings.amqp_url))
        async with connection:
            channel = await connection.channel()
            for consumer in app.state.consumers:
                await declare_queue(
                    channel,
                    consumer.queue_name,
                    sorted(consumer.handlers),
                    expires=consumer.expires,
                )
        yield app


@pytest.fixture
async def billing(billing_app, as_) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the billing API; the session's tariffs are set before the first test."""
    transport = httpx.ASGITransport(app=billing_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://billing") as client:
        response = await client.put("/tariffs", json=TARIFFS, headers=as_("fee_admin"))
        assert response.status_code == 200, response.text
        yield client
