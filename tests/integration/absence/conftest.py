"""A stay to register absence on. The absence service, with its stays consumer, and the
event bridge are session fixtures of tests/integration/conftest.py."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.common.dates import today_in_stockholm
from tests.integration.helpers import new_customer, new_order, new_unit


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
