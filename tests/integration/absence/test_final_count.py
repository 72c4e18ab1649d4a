"""The final count of a long absence over the real stack (issue 17 point 3): an absence
left open past 30 days ends, and the fee administrators are told its whole count and which
of its invoices billing holds, once."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from tests.integration.billing.helpers import (
    TARIFFS,
    absent,
    decide_fee,
    events_of,
    invoices_of,
    last_month,
    new_stay,
    run_month,
)
from tests.integration.conftest import wait_for


@pytest.fixture
async def billing(billing_app, as_) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=billing_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://billing") as client:
        response = await client.put("/tariffs", json=TARIFFS, headers=as_("fee_admin"))
        assert response.status_code == 200, response.text
        yield client


async def test_an_escalated_absence_that_ends_is_counted_with_its_held_invoice(
    http, billing, absence_http, as_, pool, events
):
    month = last_month()
    start = month.previous().first_day
    stay = await new_stay(http, as_, pool, start=start)
    customer = stay["customer"]
    await decide_fee(billing, as_, pool, customer["id"], "2660.00", start)
    first = month.first_day - timedelta(days=10)
    absence = await absent(absence_http, pool, stay, first, None)  # open, long past 30 days
    escalated = events_of(
        events, "notification.requested", customer_id=customer["id"], kind="absence.escalated"
    )
    await wait_for(escalated)
    await run_month(billing, as_, month)
    [*_, held] = await invoices_of(billing, as_, customer["id"])
    assert (held["period"], held["status"]) == (str(month), "held")

    last = month.first_day + timedelta(days=24)  # 35 whole days: 10 and 25
    ended = await absence_http.patch(
        f"/absences/{absence['id']}", json={"to_date": str(last)}, headers=stay["provider"]
    )
    assert ended.status_code == 200, ended.text
    counted = events_of(
        events, "notification.requested", customer_id=customer["id"], kind="absence.final_count"
    )
    [notice] = await wait_for(counted)

    body = notice["data"]["body"]
    assert notice["data"]["to"] == ["group:avgifter"]
    assert customer["customer_number"] in notice["data"]["subject"]
    assert f"Datum för frånvaro: {first} – {last}." in body
    per_month = f"{month.previous()}: 10, {month}: 25"
    assert f"Antal hela dagar utan kost: 35 (per månad {per_month})." in body
    assert f"Vilande fakturor väntar på granskning för {month}" in body
    assert customer["personnummer"] not in json.dumps(notice)
    assert customer["last_name"] not in body
    assert len(await escalated()) == 1 and len(await counted()) == 1
