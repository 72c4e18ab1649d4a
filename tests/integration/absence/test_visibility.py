"""A unit sees a customer's absences for as long as it sees the customer (issue 14 point 7):
while the stay is current and for 90 days (customer_visible_after_end) after its end; the
fee administrators see them all."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.common.dates import today_in_stockholm
from tests.integration.absence.helpers import register
from tests.integration.conftest import wait_for
from tests.integration.helpers import new_customer, new_order, new_unit


async def _absence_of_ended_stay(http, absence_http, as_, pool, *, ended_days_ago: int) -> dict:
    admin, caseworker = as_("admin"), as_("caseworker")
    unit = await new_unit(http, admin)
    provider = as_("provider", unit=unit)
    customer = await new_customer(http, caseworker)
    today = today_in_stockholm()
    order = await new_order(http, caseworker, customer, unit, today - timedelta(days=300))
    confirmed = await http.post(
        f"/orders/{order['id']}/confirm",
        json={"start_date": str(today - timedelta(days=250))},
        headers=provider,
    )
    assert confirmed.status_code == 200, confirmed.text
    first = today - timedelta(days=200)
    registered = await register(
        absence_http, provider, customer["id"], first, first + timedelta(days=3)
    )
    assert registered.status_code == 201, registered.text
    end = today - timedelta(days=ended_days_ago)
    ended = await http.post(
        f"/executions/{confirmed.json()['execution_id']}/end",
        json={"end_date": str(end), "reason": "moved_other_housing", "confirmed": True},
        headers=provider,
    )
    assert ended.status_code == 200, ended.text

    async def stay_ended() -> bool:  # the absence service learns the end from its event
        known = await pool.fetchval(
            "SELECT end_date FROM absence.stays WHERE execution_id = $1",
            uuid.UUID(confirmed.json()["execution_id"]),
        )
        return known == end

    await wait_for(stay_ended)
    return {"provider": provider, "customer": customer, "absence": registered.json()}


async def _listed(absence_http, headers: dict, customer: dict) -> list[str]:
    listed = await absence_http.get(
        "/absences", params={"customer_id": customer["id"]}, headers=headers
    )
    assert listed.status_code == 200, listed.text
    return [a["id"] for a in listed.json()]


@pytest.mark.parametrize("ended_days_ago", [0, 90])
async def test_a_unit_sees_the_absences_of_a_stay_for_90_days_after_its_end(
    http, absence_http, as_, pool, ended_days_ago: int
):
    made = await _absence_of_ended_stay(
        http, absence_http, as_, pool, ended_days_ago=ended_days_ago
    )
    assert await _listed(absence_http, made["provider"], made["customer"]) == [
        made["absence"]["id"]
    ]


async def test_a_unit_no_longer_lists_them_91_days_after_the_end(http, absence_http, as_, pool):
    made = await _absence_of_ended_stay(http, absence_http, as_, pool, ended_days_ago=91)
    assert await _listed(absence_http, made["provider"], made["customer"]) == []
    assert await _listed(absence_http, as_("fee_admin"), made["customer"]) == [
        made["absence"]["id"]
    ]
