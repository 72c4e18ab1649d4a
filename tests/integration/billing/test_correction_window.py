"""Billing never corrects a month older than its window (issue 14, point 3), and says so:
the run lists the months it left, and the fee administrators are told, customer by customer.
And the fee administrators can list the runs (GET /billing-runs)."""

from __future__ import annotations

import uuid
from datetime import date

import asyncpg

from services.billing import read_model
from services.billing.domain import Period, correction_window_start
from services.common.bus import Event
from services.common.contracts.orders import OrderConfirmed
from tests.integration.billing.helpers import (
    FOOD,
    MAXTAXA,
    decide_fee,
    events_of,
    invoices_of,
    known_customer,
    last_month,
    ore,
    run_month,
)
from tests.integration.conftest import wait_for
from tests.integration.helpers import new_customer

WINDOW = 36  # the default of LIFECARE_BILLING_CORRECTION_MONTHS, which the session keeps


async def _confirmed_long_ago(pool: asyncpg.Pool, customer_id: str, start: date) -> None:
    """An order.confirmed whose stay began on `start`, applied as billing's consumer applies
    it: an order of before the orders service bounded its dates, or an event replayed."""
    event = Event(
        type=OrderConfirmed.TYPE,
        source="orders",
        data=OrderConfirmed(
            order_id=uuid.uuid4(),
            execution_id=uuid.uuid4(),
            customer_id=uuid.UUID(customer_id),
            unit_id="unit-long-ago",
            service="sol_boende",
            start_date=start,
        ).model_dump(mode="json"),
    )
    async with pool.acquire() as conn, conn.transaction():
        await read_model.on_stay(conn, event)


async def test_a_month_before_the_window_is_reported_not_corrected(
    http, billing, as_, pool, events
):
    month = last_month()
    window_start = correction_window_start(month, WINDOW)
    old = correction_window_start(month, WINDOW + 4)  # billed long ago, before the stay was known
    await run_month(billing, as_, old)
    customer = await new_customer(http, as_("caseworker"))
    await known_customer(pool, customer["id"])
    await decide_fee(billing, as_, pool, customer["id"], "2660.00", date(2020, 1, 1))
    await _confirmed_long_ago(pool, customer["id"], date(1, 1, 1))  # issue 14's order
    # every month a run has reached is to be checked again: `old`, and whatever months the
    # session's other tests billed (the security tests bill months of 2021)
    rechecks = await pool.fetch(
        "SELECT period FROM billing.rechecks WHERE customer_id = $1::uuid", customer["id"]
    )
    months = {Period.of(r["period"]) for r in rechecks} - {month}
    too_old = sorted(m for m in months if m < window_start)
    in_window = {m for m in months if m >= window_start}
    assert old in too_old

    run = await run_month(billing, as_, month)
    assert run["correct_from"] == str(window_start)
    assert run["uncorrected"] >= len(too_old)
    [invoice] = await invoices_of(billing, as_, customer["id"])
    # the month itself and corrections of the months of the window that a run reached; none
    # before it: no years of corrections for months gone by
    assert {line["period"] for line in invoice["lines"]} == {str(m) for m in {month, *in_window}}
    assert ore(invoice["total"]) == (FOOD + MAXTAXA) * (1 + len(in_window))

    # what was left is on the run, for the fee administrator to settle by hand
    listed = await billing.get(f"/billing-runs/{run['id']}/uncorrected", headers=as_("fee_admin"))
    assert listed.status_code == 200, listed.text
    assert int(listed.headers["X-Total-Count"]) == len(listed.json())
    left = [u for u in listed.json() if u["customer_id"] == customer["id"]]
    assert left == [
        {
            "customer_id": customer["id"],
            "customer_number": customer["customer_number"],
            "period": str(m),
            "fee": fee,
            "due": due,
            "billed_before": "0.00",
            "difference": due,
        }
        for m in too_old
        for fee, due in (("food", "4000.00"), ("care", "2660.00"))
    ]
    # the read is in the customer's audit log
    audited = await pool.fetchval(
        "SELECT count(*) FROM billing.audit WHERE customer_id = $1::uuid "
        "AND action = 'billing_run.uncorrected' AND resource = $2",
        customer["id"],
        f"billing_run:{run['id']}",
    )
    assert audited == 1
    # and the fee administrators are told, by customer number, never by name
    [notice] = await wait_for(
        events_of(
            events, "notification.requested", customer_id=customer["id"], kind="billing.uncorrected"
        )
    )
    data = notice["data"]
    assert data["to"] == ["group:avgifter"]
    assert data["subject"] == (
        f"Ej rättade månader: kund {customer['customer_number']}, faktureringen för {month}"
    )
    assert f"rättar inga månader före {window_start}" in data["body"]
    assert (
        f"kost {old}: 4000.00 kr enligt dagens uppgifter, fakturerat 0.00 kr, "
        "skillnad 4000.00 kr" in data["body"]
    )
    assert f"omvårdnad {old}: 2660.00 kr" in data["body"]
    assert f"/billing-runs/{run['id']}/uncorrected" in data["body"]
    assert customer["last_name"] not in data["body"] + data["subject"]

    # the month was settled by this run: running again reports it no second time
    again = await run_month(billing, as_, month)
    again_left = await billing.get(
        f"/billing-runs/{again['id']}/uncorrected", headers=as_("fee_admin")
    )
    assert customer["id"] not in [u["customer_id"] for u in again_left.json()]
    assert await invoices_of(billing, as_, customer["id"]) == [invoice]
    told = await events_of(
        events, "notification.requested", customer_id=customer["id"], kind="billing.uncorrected"
    )()
    assert len(told) == 1


async def test_the_uncorrected_months_are_for_fee_administrators_and_asked_for_rightly(
    billing, as_
):
    runs = await billing.get("/billing-runs", params={"limit": 1}, headers=as_("admin"))
    assert runs.status_code == 200, runs.text
    [some] = runs.json() or [None]
    for caller in (as_("provider", unit="solbacken"), as_("caseworker"), as_("coordinator")):
        path = f"/billing-runs/{some['id'] if some else uuid.uuid4()}/uncorrected"
        assert (await billing.get(path, headers=caller)).status_code == 403
    missing = await billing.get(f"/billing-runs/{uuid.uuid4()}/uncorrected", headers=as_("admin"))
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "billing_run_not_found"
    for params in ({"limit": 0}, {"offset": -1}, {"limit": "many"}):
        path = f"/billing-runs/{uuid.uuid4()}/uncorrected"
        bad = await billing.get(path, params=params, headers=as_("fee_admin"))
        assert bad.status_code == 422, params
    not_an_id = await billing.get("/billing-runs/nov/uncorrected", headers=as_("fee_admin"))
    assert not_an_id.status_code == 422


async def test_billing_runs_are_listed_newest_first_in_pages(billing, as_):
    month = last_month()
    first = await run_month(billing, as_, month.previous())
    second = await run_month(billing, as_, month)
    fee_admin = as_("fee_admin")

    listed = await billing.get("/billing-runs", headers=fee_admin)
    assert listed.status_code == 200, listed.text
    runs = listed.json()
    total = int(listed.headers["X-Total-Count"])
    assert total == len(runs) >= 2
    assert [r["id"] for r in runs[:2]] == [second["id"], first["id"]]  # newest first
    started = [r["started_at"] for r in runs]
    assert started == sorted(started, reverse=True)
    assert runs[0] == second | {"status": "completed"}

    # pages: limit and offset walk the same list, the total stays
    page = await billing.get("/billing-runs", params={"limit": 1, "offset": 1}, headers=fee_admin)
    assert [r["id"] for r in page.json()] == [first["id"]]
    assert page.headers["X-Total-Count"] == str(total)
    # one month's runs
    of_month = await billing.get(
        "/billing-runs", params={"period": str(month.previous())}, headers=as_("admin")
    )
    assert of_month.json() and {r["period"] for r in of_month.json()} == {str(month.previous())}
    assert first["id"] in [r["id"] for r in of_month.json()]
    assert int(of_month.headers["X-Total-Count"]) == len(of_month.json())
    beyond = await billing.get("/billing-runs", params={"offset": total}, headers=fee_admin)
    assert beyond.json() == [] and beyond.headers["X-Total-Count"] == str(total)

    # who may list them, and what is asked wrongly
    for caller in (as_("provider", unit="solbacken"), as_("caseworker"), as_("coordinator")):
        assert (await billing.get("/billing-runs", headers=caller)).status_code == 403
    bad_period = await billing.get("/billing-runs", params={"period": "2026-13"}, headers=fee_admin)
    assert bad_period.status_code == 422
    assert bad_period.json()["error"]["code"] == "bad_period"
    for params in ({"limit": 0}, {"limit": 501}, {"offset": -1}):
        bad = await billing.get("/billing-runs", params=params, headers=fee_admin)
        assert bad.status_code == 422, params
