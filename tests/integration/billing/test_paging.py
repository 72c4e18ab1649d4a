"""Every list of the billing service comes a page at a time behind a `Link` header: a walk
over all pages shows each row once, also when rows are added between two pages.

The rows are written into the billing schema as a run would write them, in months long
past that no other test bills: what is under test is the list, not the billing run."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date

import asyncpg
import pytest

from tests.integration.paging import cursor_of, ids_of, tampered, walk

SCRATCH = "test-paging"  # who wrote the rows, so they can be taken out again


@pytest.fixture(autouse=True)
async def _forget_the_rows(pool: asyncpg.Pool) -> AsyncIterator[None]:
    """Take the written rows out again: a billing run's month is one every later fact of a
    customer is checked again for (billing.rechecks), and these runs billed nobody."""
    yield
    async with pool.acquire() as conn, conn.transaction():
        runs = await conn.fetch(
            "SELECT id, period FROM billing.billing_runs WHERE requested_by = $1", SCRATCH
        )
        ids = [r["id"] for r in runs]
        await conn.execute("DELETE FROM billing.uncorrected WHERE run_id = ANY($1)", ids)
        await conn.execute("DELETE FROM billing.invoices WHERE run_id = ANY($1)", ids)
        await conn.execute("DELETE FROM billing.billing_runs WHERE id = ANY($1)", ids)
        await conn.execute(
            """DELETE FROM billing.rechecks WHERE period = ANY($1::date[])
                 AND period NOT IN (SELECT period FROM billing.billing_runs)""",
            [r["period"] for r in runs],
        )
        await conn.execute("DELETE FROM billing.fee_decisions WHERE created_by = $1", SCRATCH)
        await conn.execute(
            """DELETE FROM billing.customers c WHERE c.customer_number = '800001'
                 AND NOT EXISTS (SELECT 1 FROM billing.fee_decisions d
                                 WHERE d.customer_id = c.id)"""
        )


async def _run(pool: asyncpg.Pool, period: date) -> str:
    run_id = uuid.uuid4()
    await pool.execute(
        """INSERT INTO billing.billing_runs (id, period, workflow_id, status, requested_by)
           VALUES ($1, $2, $3, 'completed', $4)""",
        run_id,
        period,
        f"billing-run-test-{run_id}",
        SCRATCH,
    )
    return str(run_id)


async def _invoice(
    pool: asyncpg.Pool, run_id: str, customer: uuid.UUID, number: str, period: date
) -> str:
    invoice_id = uuid.uuid4()
    await pool.execute(
        """INSERT INTO billing.invoices
               (id, customer_id, customer_number, period, kind, status, total, run_id)
           VALUES ($1, $2, $3, $4, 'regular', 'held', 0, $5::uuid)""",
        invoice_id,
        customer,
        number,
        period,
        run_id,
    )
    return str(invoice_id)


async def test_a_walk_over_a_months_invoices_shows_each_once_while_invoices_arrive(
    billing, as_, pool
):
    month = date(1990, 1, 1)
    run_id = await _run(pool, month)
    made = [await _invoice(pool, run_id, uuid.uuid4(), f"5{n:05}", month) for n in range(7)]
    added: list[str] = []

    async def more(page: int) -> None:
        # one before the pages shown (a lower customer number), one after
        added.append(await _invoice(pool, run_id, uuid.uuid4(), f"1{page:05}", month))
        added.append(await _invoice(pool, run_id, uuid.uuid4(), f"9{page:05}", month))

    pages = await walk(
        billing,
        "/invoices",
        headers=as_("fee_admin"),
        params={"period": "1990-01", "limit": 3},
        between=more,
    )
    assert ids_of(pages) == made + added[1::2]  # by customer number, each once
    assert [len(page) for page in pages][:2] == [3, 3]


async def test_a_customers_invoices_of_many_months_come_latest_month_first(billing, as_, pool):
    run_id = await _run(pool, date(1990, 2, 1))
    customer = uuid.uuid4()
    made = [await _invoice(pool, run_id, customer, "700001", date(1990, m, 1)) for m in range(2, 9)]
    pages = await walk(
        billing,
        "/invoices",
        headers=as_("fee_admin"),
        params={"customer_id": str(customer), "limit": 2},
    )
    assert ids_of(pages) == made[::-1]
    assert pages[0] and all(len(page) <= 2 for page in pages)


async def test_billing_runs_come_newest_first_a_page_at_a_time(billing, as_, pool):
    month = date(1991, 3, 1)
    made = [await _run(pool, month) for _ in range(5)]
    pages = await walk(
        billing,
        "/billing-runs",
        headers=as_("fee_admin"),
        params={"period": "1991-03", "limit": 2},
    )
    assert ids_of(pages) == made[::-1]
    first = await billing.get(
        "/billing-runs", params={"period": "1991-03", "limit": 2}, headers=as_("admin")
    )
    assert first.headers["X-Total-Count"] == "5"


async def test_fee_decisions_come_a_page_at_a_time(billing, as_, pool):
    customer = uuid.uuid4()
    await pool.execute(
        "INSERT INTO billing.customers (id, customer_number) VALUES ($1, '800001')", customer
    )

    async def decision(month: int) -> str:
        decision_id = uuid.uuid4()
        await pool.execute(
            """INSERT INTO billing.fee_decisions
                   (id, customer_id, care_monthly_amount, valid_from, created_by)
               VALUES ($1, $2, 100000, $3, $4)""",
            decision_id,
            customer,
            date(2020, month, 1),
            SCRATCH,
        )
        return str(decision_id)

    made = [await decision(month) for month in range(1, 8)]
    added: list[str] = []

    async def more(page: int) -> None:
        added.append(await decision(12 - page))

    pages = await walk(
        billing,
        "/fee-decisions",
        headers=as_("fee_admin"),
        params={"customer_id": str(customer), "limit": 3},
        between=more,
    )
    assert ids_of(pages) == made + added[::-1]  # later months after, each once


async def test_a_runs_uncorrected_months_come_a_page_at_a_time(billing, as_, pool):
    run_id = await _run(pool, date(1992, 1, 1))
    customer = uuid.uuid4()
    rows = [(month, fee) for month in (1, 2, 3) for fee in ("food", "care")]
    for month, fee in rows:
        await pool.execute(
            """INSERT INTO billing.uncorrected (run_id, customer_id, customer_number, period,
                                                fee, due, billed_before, difference)
               VALUES ($1::uuid, $2, '900001', $3, $4, 100, 0, 100)""",
            run_id,
            customer,
            date(1991, month, 1),
            fee,
        )
    pages = await walk(
        billing,
        f"/billing-runs/{run_id}/uncorrected",
        headers=as_("fee_admin"),
        params={"limit": 4},
    )
    seen = [(row["period"], row["fee"]) for page in pages for row in page]
    assert seen == [(f"1991-0{m}", fee) for m, fee in rows]  # each month: food, then care
    assert [len(page) for page in pages] == [4, 2]


async def test_billing_lists_refuse_an_oversized_page_and_a_changed_cursor(billing, as_, pool):
    fee_admin = as_("fee_admin")
    for path, bound in (
        ("/invoices", 5000),
        ("/fee-decisions", 5000),
        ("/billing-runs", 500),
    ):
        refused = await billing.get(path, params={"limit": bound + 1}, headers=fee_admin)
        assert refused.status_code == 422, path
        [problem] = refused.json()["detail"]
        assert problem["loc"] == ["query", "limit"] and str(bound) in problem["msg"]

    month = date(1990, 3, 1)
    run_id = await _run(pool, month)
    for n in range(2):
        await _invoice(pool, run_id, uuid.uuid4(), f"60000{n}", month)
    first = await billing.get(
        "/invoices", params={"period": "1990-03", "limit": 1}, headers=fee_admin
    )
    cursor = cursor_of(first)
    for params in (
        {"period": "1990-03", "cursor": tampered(cursor)},
        {"period": "1990-04", "cursor": cursor},
    ):
        answer = await billing.get("/invoices", params=params, headers=fee_admin)
        assert answer.status_code == 400, params
        assert answer.json()["error"]["code"] == "cursor_invalid"
