"""Chapter 5 of the manual over HTTP: register absence, see it in the box, end it, remove one."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from services.common.bus import Event
from services.common.dates import today_in_stockholm
from tests.integration.absence.helpers import publish, register
from tests.integration.conftest import STAY_WAIT, wait_for
from tests.integration.helpers import new_customer, new_order, new_unit


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [a["id"] for a in response.json()]


async def test_register_see_it_in_the_box_end_it_and_see_it_leave(absence_http, stay):
    provider, customer, today = stay["provider"], stay["customer"], stay["today"]
    registered = await register(
        absence_http,
        provider,
        customer["id"],
        today - timedelta(days=3),
        description="Inlagd på sjukhus efter fall",
    )
    assert registered.status_code == 201, registered.text
    absence = registered.json()
    assert absence["to_date"] is None and absence["days_without_meals"] is None
    assert absence["order_id"] == stay["order"]["id"]
    assert absence["execution_id"] == stay["order"]["execution_id"]

    # the home screen's box: current absence of my unit
    box = await absence_http.get("/absences", params={"current": "true"}, headers=provider)
    assert _ids(box) == [absence["id"]]
    read = await absence_http.get(f"/absences/{absence['id']}", headers=provider)
    assert read.json()["description"] == "Inlagd på sjukhus efter fall"

    # "Ändra": the customer came back today, so yesterday was the last whole day absent
    ended = await absence_http.patch(
        f"/absences/{absence['id']}",
        json={"to_date": str(today - timedelta(days=1))},
        headers=provider,
    )
    assert ended.status_code == 200, ended.text
    assert ended.json()["to_date"] == str(today - timedelta(days=1))
    assert ended.json()["days_without_meals"] == 3
    again = await absence_http.patch(
        f"/absences/{absence['id']}",
        json={"to_date": str(today - timedelta(days=1))},
        headers=provider,
    )
    assert again.status_code == 200 and again.json() == ended.json()  # nothing changed
    box = await absence_http.get("/absences", params={"current": "true"}, headers=provider)
    assert _ids(box) == []
    mine = await absence_http.get(
        "/absences", params={"customer_id": customer["id"]}, headers=provider
    )
    assert _ids(mine) == [absence["id"]]


async def test_a_planned_absence_is_not_in_the_box_before_it_begins(absence_http, stay):
    provider, today = stay["provider"], stay["today"]
    planned = await register(
        absence_http,
        provider,
        stay["customer"]["id"],
        today + timedelta(days=5),
        today + timedelta(days=12),
        reason="vacation",
    )
    assert planned.status_code == 201, planned.text
    assert planned.json()["days_without_meals"] == 8
    box = await absence_http.get("/absences", params={"current": "true"}, headers=provider)
    assert planned.json()["id"] not in _ids(box)


async def test_fee_admins_see_absence_by_customer_and_period_and_each_change_as_an_event(
    absence_http, stay, as_, events
):
    provider, customer, today = stay["provider"], stay["customer"], stay["today"]
    first = today - timedelta(days=20)
    registered = await register(
        absence_http, provider, customer["id"], first, reason="short_term_care"
    )
    absence = registered.json()
    await absence_http.patch(
        f"/absences/{absence['id']}",
        json={"to_date": str(first + timedelta(days=9))},
        headers=provider,
    )

    fee_admin = as_("fee_admin", sub="frida")
    by_customer = await absence_http.get(
        "/absences", params={"customer_id": customer["id"]}, headers=fee_admin
    )
    assert _ids(by_customer) == [absence["id"]]
    assert by_customer.json()[0]["days_without_meals"] == 10
    touching = {"from": str(first + timedelta(days=9)), "to": str(today)}
    listed = await absence_http.get("/absences", params=touching, headers=fee_admin)
    assert absence["id"] in _ids(listed)
    later = {"from": str(first + timedelta(days=10)), "to": str(today)}
    listed = await absence_http.get("/absences", params=later, headers=fee_admin)
    assert absence["id"] not in _ids(listed)

    # registration and ending reach the bus, for billing to consume
    async def changes():
        mine = [e for e in events if e["data"].get("absence_id") == absence["id"]]
        return mine if len(mine) >= 2 else None

    first_event, second_event = await wait_for(changes)
    assert (first_event["type"], second_event["type"]) == ("absence.registered", "absence.updated")
    assert first_event["data"]["to_date"] is None
    assert second_event["data"]["to_date"] == str(first + timedelta(days=9))
    assert second_event["data"]["revision"] > first_event["data"]["revision"]
    assert second_event["data"]["order_id"] == stay["order"]["id"]
    assert "description" not in second_event["data"]  # the free text stays in the service


async def test_an_absence_registered_by_mistake_is_removed_and_kept_in_the_audit_log(
    absence_http, stay, pool, events
):
    provider, today = stay["provider"], stay["today"]
    registered = await register(
        absence_http, provider, stay["customer"]["id"], today - timedelta(days=1), reason="other"
    )
    absence = registered.json()

    removed = await absence_http.delete(f"/absences/{absence['id']}", headers=provider)
    assert removed.status_code == 204
    gone = await absence_http.get(f"/absences/{absence['id']}", headers=provider)
    assert gone.status_code == 404
    box = await absence_http.get("/absences", params={"current": "true"}, headers=provider)
    assert absence["id"] not in _ids(box)
    again = await absence_http.delete(f"/absences/{absence['id']}", headers=provider)
    assert again.status_code == 404

    trail = await pool.fetch(
        "SELECT actor_sub, action FROM absence.audit WHERE resource = $1 ORDER BY id",
        f"absence:{absence['id']}",
    )
    assert [(r["actor_sub"], r["action"]) for r in trail] == [
        ("anna", "absence.register"),
        ("anna", "absence.remove"),
    ]

    async def removal():
        return [
            e
            for e in events
            if e["type"] == "absence.removed" and e["data"]["absence_id"] == absence["id"]
        ]

    assert await wait_for(removal)


async def test_an_absence_registered_right_after_the_confirmation_is_accepted(
    http, as_, absence_http
):
    admin, caseworker = as_("admin"), as_("caseworker")
    unit = await new_unit(http, admin)
    provider = as_("provider", unit=unit)
    customer = await new_customer(http, caseworker)
    today = today_in_stockholm()
    order = await new_order(http, caseworker, customer, unit, today - timedelta(days=5))
    confirmed = await http.post(
        f"/orders/{order['id']}/confirm",
        json={"start_date": str(today - timedelta(days=4))},
        headers=provider,
    )
    assert confirmed.status_code == 200

    # no pause: order.confirmed may not have reached the absence service yet
    registered = await register(
        absence_http, provider, customer["id"], today - timedelta(days=1), reason="relatives"
    )
    assert registered.status_code == 201, registered.text
    assert registered.json()["execution_id"] == confirmed.json()["execution_id"]


async def test_a_registration_waits_for_a_stay_whose_confirmation_comes_late(
    absence_http, as_, settings
):
    """Event lag made certain: order.confirmed reaches the bus a second after the POST."""
    unit, customer_id = f"unit-{uuid.uuid4().hex[:8]}", uuid.uuid4()
    today = today_in_stockholm()
    confirmed = Event(
        type="order.confirmed",
        source="orders",
        data={
            "order_id": str(uuid.uuid4()),
            "execution_id": str(uuid.uuid4()),
            "customer_id": str(customer_id),
            "unit_id": unit,
            "service": "sol_boende",
            "start_date": str(today - timedelta(days=10)),
        },
    )

    async def confirm_late() -> None:
        await asyncio.sleep(1.0)  # the lag this test is about, not a wait for a result
        await publish(settings, confirmed)

    late = asyncio.create_task(confirm_late())
    started = asyncio.get_running_loop().time()
    registered = await register(
        absence_http, as_("provider", unit=unit), str(customer_id), today - timedelta(days=2)
    )
    waited = asyncio.get_running_loop().time() - started
    await late
    assert registered.status_code == 201, registered.text
    assert registered.json()["execution_id"] == confirmed.data["execution_id"]
    assert 1.0 <= waited < STAY_WAIT.total_seconds()
