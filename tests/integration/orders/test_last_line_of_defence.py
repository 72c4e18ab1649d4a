"""The workflow is the last line of defence (issue 14, point 2), and an order's dates are
within reason (point 3): on the real stack, an update sent straight to Temporal as
`temporal workflow update execute` sends it is refused as the API refuses it, the stay goes
on and the audit log names no invented actor; the API answers each date out of bounds with
a 422 that names the bound."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError

from services.common.dates import today_in_stockholm
from tests.integration.helpers import new_customer, new_order, new_unit
from workflows.models import lifecycle_id


@pytest.fixture
async def ongoing(http, as_) -> dict:
    admin, caseworker = as_("admin"), as_("caseworker")
    unit = await new_unit(http, admin)
    provider = as_("provider", unit=unit, sub="anna")
    customer = await new_customer(http, caseworker)
    today = today_in_stockholm()
    order = await new_order(http, caseworker, customer, unit, today - timedelta(days=3))
    confirmed = await http.post(
        f"/orders/{order['id']}/confirm", json={"start_date": str(today)}, headers=provider
    )
    assert confirmed.status_code == 200, confirmed.text
    return {"order": confirmed.json(), "provider": provider, "unit": unit, "today": today}


async def test_an_end_sent_straight_to_temporal_with_an_invented_actor_ends_nothing(
    temporal, http, as_, pool, ongoing
):
    order = ongoing["order"]
    handle = temporal.client.get_workflow_handle(lifecycle_id(order["id"]))
    attempts = [
        {
            "reason": "not-a-valid-reason",
            "actor": {"sub": "mallory", "role": "provider", "unit": ongoing["unit"]},
        },
        {"reason": "deceased", "actor": {"sub": "mallory", "role": "admin"}},
        {
            "reason": "deceased",
            "actor": {"sub": "mallory", "role": "provider", "unit": "elsewhere"},
        },
    ]
    for attempt in attempts:
        with pytest.raises(WorkflowUpdateFailedError):
            await handle.execute_update(
                "end", {"end_date": str(ongoing["today"]), "confirmed": True, **attempt}
            )
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update(
            "end",
            {
                "end_date": str(ongoing["today"]),
                "reason": "deceased",
                "confirmed": "yes",
                "actor": {"sub": "mallory", "role": "provider", "unit": ongoing["unit"]},
            },
        )

    execution = await http.get(f"/executions/{order['execution_id']}", headers=ongoing["provider"])
    assert execution.json()["status"] == "ongoing" and execution.json()["end_date"] is None
    async with pool.acquire() as conn:
        invented = await conn.fetchval(
            "SELECT count(*) FROM orders.audit WHERE actor_sub = 'mallory'"
        )
    assert invented == 0

    # the rightful provider, through the API, still ends it
    ended = await http.post(
        f"/executions/{order['execution_id']}/end",
        json={"end_date": str(ongoing["today"]), "reason": "moved_home", "confirmed": True},
        headers=ongoing["provider"],
    )
    assert ended.status_code == 200, ended.text
    assert ended.json()["status"] == "ended"


async def _order(http, as_, **fields: str):
    admin, caseworker = as_("admin"), as_("caseworker")
    unit = await new_unit(http, admin)
    customer = await new_customer(http, caseworker)
    body = {"customer_id": customer["id"], "unit_id": unit, "text": "Beviljas."} | fields
    return await http.post("/orders", json=body, headers=caseworker)


@pytest.mark.parametrize(
    ("days", "code", "bound"),
    [
        (1, "decision_date_in_future", "is in the future"),
        (-(2 * 365 + 1), "decision_date_too_old", "more than 2 year(s) back"),
        (None, "decision_date_too_old", "more than 2 year(s) back"),
    ],
    ids=["tomorrow", "two-years-and-a-day-back", "year-0001"],
)
async def test_a_decision_date_out_of_bounds_is_a_422_naming_the_bound(
    http, as_, days: int | None, code: str, bound: str
):
    today = today_in_stockholm()
    decided = "0001-01-01" if days is None else str(today + timedelta(days=days))
    response = await _order(http, as_, decision_date=decided)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code
    assert bound in response.json()["error"]["message"]


async def test_a_planned_start_years_ahead_is_a_422_naming_the_bound(http, as_):
    today = today_in_stockholm()
    response = await _order(
        http,
        as_,
        decision_date=str(today),
        planned_start_date=str(today + timedelta(days=3 * 365)),
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "planned_start_date_too_far_ahead"
    assert "more than 1 year(s) ahead" in response.json()["error"]["message"]


async def test_start_and_end_dates_years_ahead_are_422s_naming_the_bound(http, as_):
    admin, caseworker = as_("admin"), as_("caseworker")
    unit = await new_unit(http, admin)
    provider = as_("provider", unit=unit)
    today = today_in_stockholm()
    order = await new_order(http, caseworker, await new_customer(http, caseworker), unit, today)

    far = await http.post(
        f"/orders/{order['id']}/confirm",
        json={"start_date": str(today + timedelta(days=800))},
        headers=provider,
    )
    assert far.status_code == 422
    assert far.json()["error"]["code"] == "start_date_too_far_ahead"
    assert "the latest is" in far.json()["error"]["message"]

    confirmed = await http.post(
        f"/orders/{order['id']}/confirm", json={"start_date": str(today)}, headers=provider
    )
    assert confirmed.status_code == 200
    end = await http.post(
        f"/executions/{confirmed.json()['execution_id']}/end",
        json={"end_date": "9999-12-31", "reason": "other", "confirmed": True},
        headers=provider,
    )
    assert end.status_code == 422
    assert end.json()["error"]["code"] == "end_date_too_far_ahead"
    order_now = await http.get(f"/orders/{order['id']}", headers=provider)
    assert order_now.json()["status"] == "ongoing"
