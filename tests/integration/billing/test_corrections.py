"""Facts that change after a month was invoiced: a late absence and an earlier end date.
What was billed for a month always adds up to what the rules give for it today."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import WorkflowExecutionStatus

from services.billing.domain import Period, month_fee
from tests.integration.billing.helpers import (
    FOOD,
    MAXTAXA,
    absent,
    decide_fee,
    end_stay,
    events_of,
    invoices_of,
    last_month,
    lines_by_kind,
    new_stay,
    ore,
    run_month,
)
from tests.integration.conftest import wait_for


def billed_for(invoices: list[dict], month: Period, fee: str) -> int:
    """The sum of every line of every invoice for one fee of one month."""
    return sum(
        ore(line["amount"])
        for invoice in invoices
        for line in invoice["lines"]
        if line["period"] == str(month) and line["kind"] in (fee, f"{fee}_correction")
    )


async def test_a_late_absence_is_corrected_on_the_next_invoice(
    http, billing, absence_http, as_, pool
):
    second = last_month()
    first = second.previous()
    stay = await new_stay(http, as_, pool, start=first.first_day - timedelta(days=10))
    customer = stay["customer"]
    await decide_fee(billing, as_, pool, customer["id"], "2660.00", first.first_day)
    await run_month(billing, as_, first)
    [invoice] = await invoices_of(billing, as_, customer["id"])
    assert ore(invoice["total"]) == FOOD + MAXTAXA  # a full month

    # ten days in hospital in the month already invoiced, registered late
    await absent(
        absence_http,
        pool,
        stay,
        first.first_day + timedelta(days=4),
        first.first_day + timedelta(days=13),
    )

    await run_month(billing, as_, second)
    invoices = await invoices_of(billing, as_, customer["id"])
    assert [i["period"] for i in invoices] == [str(first), str(second)]
    lines = lines_by_kind(invoices[1])
    assert set(lines) == {
        ("food", str(second)),
        ("care", str(second)),
        ("food_correction", str(first)),
        ("care_correction", str(first)),
    }
    food_fix = lines[("food_correction", str(first))]
    assert food_fix["days"] == first.days - 10
    assert ore(food_fix["amount"]) == month_fee(FOOD, 10) - FOOD
    assert ore(food_fix["billed_before"]) == FOOD and ore(food_fix["due"]) == month_fee(FOOD, 10)
    assert food_fix["description"].startswith("Rättelse kost")
    care_fix = lines[("care_correction", str(first))]
    assert ore(care_fix["amount"]) == month_fee(MAXTAXA, 10) - MAXTAXA
    assert ore(invoices[1]["total"]) == FOOD + MAXTAXA + ore(food_fix["amount"]) + ore(
        care_fix["amount"]
    )
    # what was billed for the first month is what the rules give for it today
    assert billed_for(invoices, first, "food") == month_fee(FOOD, 10)
    assert billed_for(invoices, first, "care") == month_fee(MAXTAXA, 10)

    # running the month again corrects nothing twice
    await run_month(billing, as_, second)
    assert await invoices_of(billing, as_, customer["id"]) == invoices


async def test_an_earlier_end_date_is_corrected_by_a_correction_invoice(
    http, billing, absence_http, as_, pool, temporal, events
):
    second = last_month()
    first = second.previous()
    stay = await new_stay(http, as_, pool, start=first.first_day - timedelta(days=10))
    customer, order = stay["customer"], stay["order"]
    await decide_fee(billing, as_, pool, customer["id"], "1500.00", first.first_day)
    await run_month(billing, as_, first)  # the stay was still open: a full month
    [invoice] = await invoices_of(billing, as_, customer["id"])
    assert ore(invoice["total"]) == FOOD + 150_000

    # the provider ends the stay on the 10th of the month already invoiced
    await end_stay(http, pool, stay, first.first_day + timedelta(days=9), "moved_other_housing")

    # its last month is invoiced already: the lifecycle hears so and completes
    told = await wait_for(
        events_of(events, "invoice.issued", invoice_id=invoice["id"], final_order_ids=[order["id"]])
    )
    assert told[0]["data"]["period"] == str(first)
    lifecycle = temporal.client.get_workflow_handle(order["workflow_id"])

    async def completed() -> bool:
        return (await lifecycle.describe()).status == WorkflowExecutionStatus.COMPLETED

    await wait_for(completed)

    # the stay is over: next month brings a correction invoice, not a regular one
    await run_month(billing, as_, second)
    invoices = await invoices_of(billing, as_, customer["id"])
    assert [(i["period"], i["kind"], i["status"]) for i in invoices] == [
        (str(first), "regular", "issued"),
        (str(second), "correction", "issued"),
    ]
    correction = invoices[1]
    lines = lines_by_kind(correction)
    assert set(lines) == {("food_correction", str(first)), ("care_correction", str(first))}
    not_stayed = first.days - 10
    assert lines[("food_correction", str(first))]["days"] == 10
    assert ore(lines[("food_correction", str(first))]["amount"]) == (
        month_fee(FOOD, not_stayed) - FOOD
    )
    assert ore(correction["total"]) < 0  # money back
    assert billed_for(invoices, first, "food") == month_fee(FOOD, not_stayed)
    assert billed_for(invoices, first, "care") == month_fee(150_000, not_stayed)


async def test_a_stay_confirmed_after_its_month_was_billed_is_billed_next_month(
    http, billing, as_, pool
):
    second = last_month()
    first = second.previous()
    await run_month(billing, as_, first)  # before anyone knew of the stay
    stay = await new_stay(http, as_, pool, start=first.last_day - timedelta(days=6))  # 7 days
    customer = stay["customer"]
    await decide_fee(billing, as_, pool, customer["id"], "2660.00", first.first_day)

    await run_month(billing, as_, second)
    [invoice] = await invoices_of(billing, as_, customer["id"])
    lines = lines_by_kind(invoice)
    missed = lines[("food_correction", str(first))]
    assert missed["days"] == 7 and ore(missed["billed_before"]) == 0
    assert ore(missed["amount"]) == month_fee(FOOD, first.days - 7)
    assert ore(lines[("care_correction", str(first))]["amount"]) == month_fee(
        MAXTAXA, first.days - 7
    )
