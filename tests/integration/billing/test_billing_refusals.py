"""Wrong input gets a 4xx that says why, and nothing is half-written."""

from __future__ import annotations

import uuid
from datetime import timedelta

from services.billing.domain import Period
from services.common.dates import today_in_stockholm
from tests.integration.billing.helpers import known_customer, last_month, new_stay, run_month
from workflows.billing_models import BillingRunInput, billing_run_id


async def _error(response, status: int) -> dict:
    assert response.status_code == status, response.text
    return response.json()["error"]


async def test_a_billing_run_needs_a_month_that_has_ended_and_its_tariffs(billing, as_):
    fee_admin = as_("fee_admin")
    this_month = Period.of(today_in_stockholm())
    cases = [
        ("2026-13", "bad_period"),
        (str(this_month), "period_not_ended"),
        ("1999-12", "no_tariff"),
    ]
    for period, code in cases:
        response = await billing.post("/billing-runs", json={"period": period}, headers=fee_admin)
        assert (await _error(response, 422))["code"] == code, period
    malformed = await billing.post("/billing-runs", json={"period": "nov"}, headers=fee_admin)
    assert malformed.status_code == 422  # request validation
    provider = as_("provider", unit="solbacken")
    forbidden = await billing.post("/billing-runs", json={"period": "2026-01"}, headers=provider)
    assert forbidden.status_code == 403
    missing = await billing.get(f"/billing-runs/{uuid.uuid4()}", headers=fee_admin)
    assert (await _error(missing, 404))["code"] == "billing_run_not_found"


async def test_a_fee_decision_above_the_maxtaxa_or_for_nobody_is_refused(http, billing, as_, pool):
    fee_admin = as_("fee_admin")
    month = last_month()
    stay = await new_stay(http, as_, pool, start=month.first_day)
    customer_id = stay["customer"]["id"]
    await known_customer(pool, customer_id)
    body = {"customer_id": customer_id, "valid_from": str(month.first_day)}

    above = await billing.post(
        "/fee-decisions", json={**body, "care_monthly_amount": "2660.01"}, headers=fee_admin
    )
    error = await _error(above, 422)
    assert error["code"] == "above_maxtaxa"
    assert error["message"] == (
        "the care fee 2660.01 is above the maxtaxa 2660.00 of a month it covers"
    )
    backwards = await billing.post(
        "/fee-decisions",
        json={
            **body,
            "care_monthly_amount": "100.00",
            "valid_to": str(month.first_day - timedelta(days=1)),
        },
        headers=fee_admin,
    )
    assert (await _error(backwards, 422))["code"] == "decision_backwards"
    nobody = await billing.post(
        "/fee-decisions",
        json={**body, "customer_id": str(uuid.uuid4()), "care_monthly_amount": "100.00"},
        headers=fee_admin,
    )
    assert (await _error(nobody, 422))["code"] == "unknown_customer"
    for amount in ("12.345", "-5", "lots", True):
        bad = await billing.post(
            "/fee-decisions", json={**body, "care_monthly_amount": amount}, headers=fee_admin
        )
        assert bad.status_code == 422, amount
    # nothing of it was written
    decisions = await billing.get(
        "/fee-decisions", params={"customer_id": customer_id}, headers=fee_admin
    )
    assert decisions.json() == []
    as_admin = await billing.post(
        "/fee-decisions", json={**body, "care_monthly_amount": "100.00"}, headers=as_("admin")
    )
    assert as_admin.status_code == 403


async def test_tariffs_start_on_the_first_and_never_change_a_billed_month(billing, as_):
    fee_admin = as_("fee_admin")
    mid_month = [{"kind": "food", "monthly_amount": "4100.00", "valid_from": "2030-01-15"}]
    response = await billing.put("/tariffs", json=mid_month, headers=fee_admin)
    assert (await _error(response, 422))["code"] == "tariff_not_first_of_month"
    twice = [mid_month[0] | {"valid_from": "2030-01-01"}] * 2
    response = await billing.put("/tariffs", json=twice, headers=fee_admin)
    assert (await _error(response, 422))["code"] == "duplicate_tariff"
    assert (await billing.put("/tariffs", json=[], headers=fee_admin)).status_code == 422

    await run_month(billing, as_, last_month())
    changed = [{"kind": "food", "monthly_amount": "4100.00", "valid_from": "2020-01-01"}]
    response = await billing.put("/tariffs", json=changed, headers=fee_admin)
    assert (await _error(response, 409))["code"] == "tariff_billed"
    tariffs = (await billing.get("/tariffs", headers=fee_admin)).json()
    assert {"kind": "food", "monthly_amount": "4000.00", "valid_from": "2020-01-01"} in tariffs


async def test_invoices_are_filtered_with_valid_values_only(billing, as_):
    fee_admin = as_("fee_admin")
    assert (await billing.get("/invoices?status=paid", headers=fee_admin)).status_code == 422
    response = await billing.get("/invoices?period=2026-1", headers=fee_admin)
    assert (await _error(response, 422))["code"] == "bad_period"
    missing = await billing.post(f"/invoices/{uuid.uuid4()}/release", headers=fee_admin)
    assert (await _error(missing, 404))["code"] == "invoice_not_found"
    response = await billing.get("/invoices/export?period=x", headers=fee_admin)
    assert (await _error(response, 422))["code"] == "bad_period"


async def test_paging_beyond_any_sane_offset_is_a_422_not_a_server_error(billing, as_):
    response = await billing.get(
        "/invoices", params={"offset": 10**19, "limit": 10}, headers=as_("fee_admin")
    )
    assert response.status_code == 422


async def test_a_run_whose_workflow_cannot_start_leaves_no_run_behind(billing, as_, pool, temporal):
    # another run of the month is at work (its workflow waits on a queue no worker polls)
    period = "2020-02"
    busy = await temporal.client.start_workflow(
        "BillingRun",
        BillingRunInput(period=period),
        id=billing_run_id(period),
        task_queue=f"nobody-{uuid.uuid4()}",
    )
    try:
        response = await billing.post(
            "/billing-runs", json={"period": period}, headers=as_("fee_admin")
        )
        assert (await _error(response, 409))["code"] == "run_in_progress"
        left = await pool.fetchval(
            "SELECT count(*) FROM billing.billing_runs WHERE workflow_id = $1",
            billing_run_id(period),
        )
        assert left == 0
    finally:
        await busy.terminate("test over")
