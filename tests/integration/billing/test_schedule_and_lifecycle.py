"""The monthly schedule the worker creates, and the lifecycle that completes once the
last month of its ended stay is invoiced."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import WorkflowExecutionStatus

from lifecare.worker import ensure_schedule
from services.common.dates import STOCKHOLM
from tests.integration.billing.helpers import (
    decide_fee,
    end_stay,
    events_of,
    invoices_of,
    last_month,
    new_stay,
    run_month,
)
from tests.integration.conftest import wait_for
from workflows.billing_models import BILLING_SCHEDULE_ID
from workflows.billing_schedule import billing_schedule


async def test_the_worker_creates_monthly_billing_for_2_am_on_the_first_in_stockholm(
    temporal, settings
):
    client = temporal.client
    await ensure_schedule(client, BILLING_SCHEDULE_ID, billing_schedule(settings.task_queue))
    await ensure_schedule(client, BILLING_SCHEDULE_ID, billing_schedule(settings.task_queue))
    handle = client.get_schedule_handle(BILLING_SCHEDULE_ID)
    try:
        described = await handle.describe()
        action = described.schedule.action
        assert (action.workflow, action.id, action.task_queue) == (
            "BillingRun",
            "billing-run-scheduled",
            settings.task_queue,
        )
        assert described.schedule.spec.time_zone_name == "Europe/Stockholm"
        upcoming = [t.astimezone(STOCKHOLM) for t in described.info.next_action_times]
        assert upcoming and all((t.day, t.hour, t.minute) == (1, 2, 0) for t in upcoming)
    finally:
        await handle.delete()


async def test_the_lifecycle_completes_when_the_last_month_of_its_stay_is_invoiced(
    http, billing, absence_app, as_, pool, temporal, events
):
    month = last_month()
    stay = await new_stay(http, as_, pool, start=month.first_day)
    customer, order = stay["customer"], stay["order"]
    await decide_fee(billing, as_, pool, customer["id"], "2660.00", month.first_day)
    await end_stay(http, pool, stay, month.first_day + timedelta(days=11), "deceased")
    lifecycle = temporal.client.get_workflow_handle(order["workflow_id"])
    assert (await lifecycle.describe()).status == WorkflowExecutionStatus.RUNNING

    await run_month(billing, as_, month)
    [invoice] = await invoices_of(billing, as_, customer["id"])
    assert [line["days"] for line in invoice["lines"]] == [12, 12]
    await wait_for(
        events_of(events, "invoice.issued", invoice_id=invoice["id"], final_order_ids=[order["id"]])
    )

    async def completed() -> bool:
        return (await lifecycle.describe()).status == WorkflowExecutionStatus.COMPLETED

    await wait_for(completed)
    assert (await lifecycle.query("status"))["invoiced_through"] == str(month)
