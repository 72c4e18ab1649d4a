"""A client of the billing API (ASGI in process), with the session's tariffs; the service
itself, beside orders, absence, the worker and the bridge, is in tests/integration/conftest.py."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.integration.billing.helpers import TARIFFS


@pytest.fixture
async def billing(billing_app, as_) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the billing API; the session's tariffs are set before the first test."""
    transport = httpx.ASGITransport(app=billing_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://billing") as client:
        response = await client.put("/tariffs", json=TARIFFS, headers=as_("fee_admin"))
        assert response.status_code == 200, response.text
        yield client
