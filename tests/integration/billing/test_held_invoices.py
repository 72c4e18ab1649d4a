"""An invoice waits for the fee administrators: without a fee decision for the month, or
when an absence of more than 30 days touches it; they are told why and release it."""

from __future__ import annotations

from datetime import timedelta

from tests.integration.billing.helpers import (
    FOOD,
    absent,
    decide_fee,
    events_of,
    invoices_of,
    known_customer,
    last_month,
    new_stay,
    ore,
    run_month,
)
from tests.integration.conftest import wait_for


async def test_no_fee_decision_holds_the_invoice_until_it_is_released(
    http, billing, as_, pool, events
):
    month = last_month()
    stay = await new_stay(http, as_, pool, start=month.first_day)
    customer = stay["customer"]
    await known_customer(pool, customer["id"])

    run = await run_month(billing, as_, month)
    [held] = await invoices_of(billing, as_, customer["id"])
    assert held["status"] == "held" and held["hold_reasons"] == ["no_fee_decision"]
    assert run["held"] >= 1 and run["invoices"] == run["issued"] + run["held"]
    assert held["number"] is None and held["issued_on"] is None
    assert [line["kind"] for line in held["lines"]] == ["food"]  # no care fee without a decision
    assert ore(held["total"]) == FOOD
    assert held["hold_note"] == f"inget avgiftsbeslut för {month}"

    # the fee administrators are told why, by customer number, never by name
    [notice] = await wait_for(
        events_of(events, "notification.requested", customer_id=customer["id"], kind="invoice.held")
    )
    assert notice["data"]["to"] == ["group:avgifter"]
    assert customer["customer_number"] in notice["data"]["subject"]
    assert f"inget avgiftsbeslut för {month}" in notice["data"]["body"]
    assert customer["last_name"] not in notice["data"]["body"]
    await wait_for(events_of(events, "invoice.held", invoice_id=held["id"]))
    listed = await billing.get(
        "/invoices", params={"status": "held", "period": str(month)}, headers=as_("fee_admin")
    )
    assert held["id"] in [i["id"] for i in listed.json()]

    # only a fee administrator releases it
    for caller in (as_("admin"), as_("provider", unit=stay["unit"])):
        refused = await billing.post(f"/invoices/{held['id']}/release", headers=caller)
        assert refused.status_code == 403, refused.text
    await decide_fee(billing, as_, pool, customer["id"], "2660.00", month.first_day)
    released = await billing.post(f"/invoices/{held['id']}/release", headers=as_("fee_admin"))
    assert released.status_code == 200, released.text
    issued = released.json()
    assert issued["status"] == "issued" and issued["number"] and issued["issued_on"]
    assert issued["lines"] == held["lines"] and issued["total"] == held["total"]
    await wait_for(events_of(events, "invoice.issued", invoice_id=held["id"]))
    # the run that made it counts it issued now
    after = (await billing.get(f"/billing-runs/{run['id']}", headers=as_("admin"))).json()
    assert (after["issued"], after["held"]) == (run["issued"] + 1, run["held"] - 1)
    assert (after["invoices"], after["total"]) == (run["invoices"], run["total"])

    again = await billing.post(f"/invoices/{held['id']}/release", headers=as_("fee_admin"))
    assert again.status_code == 409
    assert again.json()["error"] == {
        "code": "invoice_issued",
        "message": "the invoice is issued; only a held invoice is released",
    }


async def test_an_absence_over_30_days_holds_each_month_it_touches(
    http, billing, absence_http, as_, pool, events
):
    second = last_month()
    first = second.previous()
    stay = await new_stay(http, as_, pool, start=first.first_day)
    customer = stay["customer"]
    await decide_fee(billing, as_, pool, customer["id"], "2660.00", first.first_day)
    away_from, away_to = first.last_day - timedelta(days=9), second.first_day + timedelta(days=24)
    await absent(absence_http, pool, stay, away_from, away_to)

    await run_month(billing, as_, first)
    await run_month(billing, as_, second)
    invoices = await invoices_of(billing, as_, customer["id"])
    assert [(i["period"], i["status"], i["hold_reasons"]) for i in invoices] == [
        (str(first), "held", ["long_absence"]),
        (str(second), "held", ["long_absence"]),
    ]
    note = f"frånvaro över 30 dagar: {away_from}–{away_to} (35 hela dagar utan kost)"
    assert invoices[1]["hold_note"] == note
    notices = await wait_for(
        events_of(events, "notification.requested", customer_id=customer["id"], kind="invoice.held")
    )
    assert any(note in n["data"]["body"] for n in notices)
