"""Absence events reach the order's lifecycle through the bridge; over 30 days, fee
administrators are told once, however often an event is delivered."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

from services.common.bus import Event
from services.common.contracts.absence import AbsenceChanged
from tests.integration.absence.helpers import publish, register
from tests.integration.conftest import wait_for
from tests.integration.helpers import new_customer, new_order, new_unit
from workflows.models import LifecycleState
from workflows.order_lifecycle import OrderLifecycle


def _lifecycle(temporal, order: dict):
    return temporal.client.get_workflow_handle(order["workflow_id"])


async def _holding(handle, absence_id: str, revision: int = 1) -> LifecycleState | None:
    """The lifecycle's state once it holds the absence at `revision` or later."""
    state: LifecycleState = await handle.query(OrderLifecycle.status)
    held = [a for a in state.absences if str(a.absence_id) == absence_id]
    return state if held and held[0].revision >= revision else None


async def _kinds_told(notified, kinds: list[str]) -> list[dict] | None:
    """The notices, once they are exactly of these kinds, in this order."""
    found = await notified()
    return found if [n["data"]["kind"] for n in found] == kinds else None


async def test_a_late_45_day_absence_reaches_fee_admins_once_also_when_delivered_twice(
    absence_http, stay, events, temporal, settings
):
    customer, today = stay["customer"], stay["today"]
    first, last = today - timedelta(days=50), today - timedelta(days=6)
    registered = await register(absence_http, stay["provider"], customer["id"], first, last)
    assert registered.status_code == 201, registered.text
    absence_id = registered.json()["id"]

    async def escalated():
        return [
            e
            for e in events
            if e["type"] == "absence.escalated" and e["data"]["absence_id"] == absence_id
        ]

    async def notified():
        return [
            e
            for e in events
            if e["type"] == "notification.requested"
            and e["data"]["to"] == ["group:avgifter"]
            and absence_id in e["data"]["body"]
        ]

    (escalation,) = await wait_for(escalated)
    assert escalation["data"]["customer_number"] == customer["customer_number"]
    assert escalation["data"]["from_date"] == str(first)
    assert escalation["data"]["last_day"] == str(last)
    assert escalation["data"]["whole_days"] == 45
    (notice,) = await wait_for(notified)
    for fact in (customer["customer_number"], str(first), str(last), "45 hela dagar utan kost"):
        assert fact in notice["data"]["body"], fact
    assert customer["personnummer"] not in json.dumps(notice)

    # the same absence.registered is delivered again, then a change follows it in the queue
    (original,) = [
        e
        for e in events
        if e["type"] == "absence.registered" and e["data"]["absence_id"] == absence_id
    ]
    await publish(settings, Event.model_validate(original))
    changed = await absence_http.patch(
        f"/absences/{absence_id}",
        json={"to_date": str(last - timedelta(days=1))},
        headers=stay["provider"],
    )
    assert changed.status_code == 200
    handle = _lifecycle(temporal, stay["order"])
    state = await wait_for(lambda: _holding(handle, absence_id, revision=2))

    (held,) = state.absences
    assert held.escalated and held.to_date == last - timedelta(days=1)
    assert state.seen_signals.count(original["id"]) == 1
    history = await handle.fetch_history()
    activities = [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]
    assert activities.count("escalate_absence") == 1
    # told once of the escalation; the changed end is one final count that replaces it
    first_notice, final = await wait_for(
        lambda: _kinds_told(notified, ["absence.escalated", "absence.final_count"])
    )
    assert first_notice["id"] == notice["id"] and len(await escalated()) == 1
    assert "ersätter det tidigare" in final["data"]["body"]
    assert f"{first} – {last - timedelta(days=1)}" in final["data"]["body"]
    assert "Antal hela dagar utan kost: 44 " in final["data"]["body"]


async def test_a_short_absence_is_kept_by_the_lifecycle_and_not_escalated(
    absence_http, stay, temporal
):
    today = stay["today"]
    registered = await register(
        absence_http, stay["provider"], stay["customer"]["id"], today - timedelta(days=5)
    )
    absence_id = registered.json()["id"]
    state = await wait_for(lambda: _holding(_lifecycle(temporal, stay["order"]), absence_id))
    (held,) = state.absences
    assert held.from_date == today - timedelta(days=5) and held.to_date is None
    assert not held.escalated and held.reason == "hospital"


async def test_an_event_for_a_lifecycle_that_has_completed_is_skipped_and_the_queue_goes_on(
    absence_http, http, as_, stay, bridge, settings, temporal
):
    caseworker = as_("caseworker")
    unit = await new_unit(http, as_("admin"))
    customer = await new_customer(http, caseworker)
    withdrawn = await new_order(http, caseworker, customer, unit, stay["today"])
    done = await http.post(
        f"/orders/{withdrawn['id']}/withdraw", json={"reason": "Tackade nej"}, headers=caseworker
    )
    assert done.status_code == 200
    await _lifecycle(temporal, withdrawn).result()  # its lifecycle has completed

    skipped_before = bridge.skipped
    stale = AbsenceChanged(
        absence_id=uuid.uuid4(),
        revision=1,
        customer_id=customer["id"],
        unit_id=unit,
        order_id=withdrawn["id"],
        execution_id=uuid.uuid4(),
        reason="other",
        from_date=stay["today"],
        to_date=None,
    )
    await publish(
        settings,
        Event(type="absence.registered", source="absence", data=stale.model_dump(mode="json")),
    )
    # an absence registered after it still reaches its own lifecycle
    registered = await register(
        absence_http, stay["provider"], stay["customer"]["id"], stay["today"]
    )
    await wait_for(lambda: _holding(_lifecycle(temporal, stay["order"]), registered.json()["id"]))
    assert bridge.skipped > skipped_before
    assert bridge.dead_lettered == 0
