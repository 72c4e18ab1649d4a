"""A month billed over HTTP: a stay confirmed mid-month, absences, the run, its invoice;
the run repeated bills nobody twice; the CSV export; who may see invoices."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from services.billing.domain import month_fee
from tests.integration.billing.helpers import (
    FOOD,
    absent,
    decide_fee,
    events_of,
    invoices_of,
    last_month,
    lines_by_kind,
    new_stay,
    ore,
    run_month,
)
from tests.integration.conftest import wait_for


async def test_a_stay_from_mid_month_with_absences_is_invoiced_for_its_days(
    http, billing, absence_http, as_, pool, events
):
    month = last_month()
    start = month.first_day + timedelta(days=14)  # moved in on the 15th
    stay = await new_stay(http, as_, pool, start=start)
    customer = stay["customer"]
    await decide_fee(billing, as_, pool, customer["id"], "2000.00", start)
    await absent(
        absence_http,
        pool,
        stay,
        month.first_day + timedelta(days=19),
        month.first_day + timedelta(days=23),
        reason="relatives",
    )
    await absent(
        absence_http,
        pool,
        stay,
        month.first_day + timedelta(days=25),
        month.first_day + timedelta(days=26),
    )

    run = await run_month(billing, as_, month)
    assert run["status"] == "completed" and run["invoices"] >= 1

    [invoice] = await invoices_of(billing, as_, customer["id"])
    stayed = month.days - 14
    food_days, care_days = stayed - 7, stayed - 2  # relatives spares food only; hospital both
    lines = lines_by_kind(invoice)
    food, care = lines[("food", str(month))], lines[("care", str(month))]
    assert (food["days"], care["days"]) == (food_days, care_days)
    assert ore(food["amount"]) == month_fee(FOOD, month.days - food_days)
    assert ore(care["amount"]) == month_fee(200_000, month.days - care_days)
    assert food["description"].startswith("Kost ")
    assert f"{food_days} av {month.days} dagar" in food["description"]
    assert ore(invoice["total"]) == ore(food["amount"]) + ore(care["amount"])
    assert invoice["status"] == "issued" and invoice["kind"] == "regular"
    assert invoice["customer_number"] == customer["customer_number"]
    assert invoice["number"].startswith(f"{invoice['issued_on'][:4]}-")

    # the event says the same as the API, and nobody else's numbers are in it
    issued = await wait_for(events_of(events, "invoice.issued", invoice_id=invoice["id"]))
    assert issued[0]["data"]["total"] == invoice["total"]
    assert issued[0]["data"]["number"] == invoice["number"]
    assert "personnummer" not in issued[0]["data"]

    # a second run of the month bills nobody twice and changes no invoice
    again = await run_month(billing, as_, month)
    assert again["id"] != run["id"]
    assert await invoices_of(billing, as_, customer["id"]) == [invoice]

    # the month's CSV export has the invoice's lines
    export = await billing.get(
        "/invoices/export", params={"period": str(month)}, headers=as_("fee_admin")
    )
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    rows = [r for r in csv.DictReader(io.StringIO(export.text)) if r["invoice_id"] == invoice["id"]]
    assert [(r["line_kind"], r["days"], r["amount"]) for r in rows] == [
        ("food", str(food_days), food["amount"]),
        ("care", str(care_days), care["amount"]),
    ]
    assert {r["invoice_number"] for r in rows} == {invoice["number"]}


async def test_a_second_run_bills_the_customers_added_since_the_first(http, billing, as_, pool):
    month = last_month()
    early = await new_stay(http, as_, pool, start=month.first_day)
    await decide_fee(billing, as_, pool, early["customer"]["id"], "2660.00", month.first_day)
    await run_month(billing, as_, month)
    [first_invoice] = await invoices_of(billing, as_, early["customer"]["id"])

    late = await new_stay(http, as_, pool, start=month.first_day + timedelta(days=9))
    await decide_fee(billing, as_, pool, late["customer"]["id"], "2660.00", month.first_day)
    await run_month(billing, as_, month)
    assert await invoices_of(billing, as_, early["customer"]["id"]) == [first_invoice]
    [late_invoice] = await invoices_of(billing, as_, late["customer"]["id"])
    assert late_invoice["period"] == str(month) and late_invoice["status"] == "issued"
    assert [line["days"] for line in late_invoice["lines"]] == [month.days - 9] * 2
    assert late_invoice["number"] != first_invoice["number"]


async def test_providers_and_caseworkers_see_no_invoices_and_no_fees(billing, as_):
    for caller in (as_("provider", unit="solbacken"), as_("caseworker"), as_("coordinator")):
        for path in ("/invoices", "/tariffs", "/fee-decisions"):
            response = await billing.get(path, headers=caller)
            assert response.status_code == 403, (path, response.text)
            assert response.json()["error"]["code"] == "forbidden"
    assert (await billing.get("/invoices")).status_code == 401


async def test_invoice_numbers_are_unique_and_gapless_per_year(billing, as_, pool):
    numbers = await pool.fetch(
        """SELECT number_year, array_agg(number_seq ORDER BY number_seq) AS seqs
           FROM billing.invoices WHERE number_seq IS NOT NULL GROUP BY number_year"""
    )
    for row in numbers:
        assert row["seqs"] == list(range(1, len(row["seqs"]) + 1))


async def test_invoices_come_a_page_at_a_time_with_the_number_matching(
    http, billing, as_, pool
) -> None:
    month = last_month()
    for _ in range(2):
        stay = await new_stay(http, as_, pool, start=month.first_day)
        await decide_fee(billing, as_, pool, stay["customer"]["id"], "2660.00", month.first_day)
    await run_month(billing, as_, month)
    everything = await billing.get(
        "/invoices", params={"period": str(month)}, headers=as_("fee_admin")
    )
    total = int(everything.headers["x-total-count"])
    assert total == len(everything.json()) >= 2
    pages = [
        await billing.get(
            "/invoices",
            params={"period": str(month), "limit": 1, "offset": offset},
            headers=as_("fee_admin"),
        )
        for offset in (0, 1)
    ]
    assert {p.headers["x-total-count"] for p in pages} == {str(total)}
    assert [p.json()[0]["id"] for p in pages] == [i["id"] for i in everything.json()[:2]]
