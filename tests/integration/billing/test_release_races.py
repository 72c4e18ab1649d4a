"""Races end in a 409, never a 500 (issue 14, point 4): fee administrators release held
invoices, several times each and all at once, while a billing run makes the correction
invoices of the same customers and months.

The invoices of a run are numbered from the year's counter, which a release takes too. A
test transaction holds that counter while the run's batch and every release reach it, so
they all meet there (not by luck of timing), then lets go: each release and the run's
numbering go in some order, and the result must be what one order of them gives. The
releases queue first in one try, the run's batch in the next."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import asyncpg
from temporalio.client import WorkflowExecutionStatus

from services.billing import service
from services.billing.domain import Period, month_fee
from services.common.dates import today_in_stockholm
from tests.integration.billing.helpers import (
    FOOD,
    MAXTAXA,
    decide_fee,
    end_stay,
    invoices_of,
    known_customer,
    last_month,
    new_stay,
    ore,
    run_month,
)
from tests.integration.conftest import wait_for
from tests.integration.helpers import new_customer

TRIES = 3
CUSTOMERS = 3  # held invoices per try
RELEASES = 3  # parallel releases of each (all of them within the billing pool's 10)


def billed_for(invoices: list[dict], month: Period, fee: str) -> int:
    return sum(
        ore(line["amount"])
        for invoice in invoices
        for line in invoice["lines"]
        if line["period"] == str(month) and line["kind"] in (fee, f"{fee}_correction")
    )


async def _waiting_on_locks(pool: asyncpg.Pool, blocker: int, at_least: int) -> None:
    """Until `at_least` sessions of this database wait for a lock (the blocker's, or a
    release's invoice row that another release of it holds)."""

    async def waiting() -> bool:
        count = await pool.fetchval(
            """SELECT count(*) FROM pg_stat_activity
               WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> $1""",
            blocker,
        )
        return count >= at_least

    await wait_for(waiting, timeout=30)


async def _held_customers(http, billing, as_, pool, first: Period) -> list[dict]:
    """Customers whose invoice of `first` is held (no fee decision), who then got their fee
    decision and moved out on the 20th: next month's run makes a correction invoice of
    `first` for each, and the release of the held one would end the stay too."""
    stays = [
        await new_stay(http, as_, pool, start=first.first_day - timedelta(days=10))
        for _ in range(CUSTOMERS)
    ]
    await run_month(billing, as_, first)
    for stay in stays:
        [held] = await invoices_of(billing, as_, stay["customer"]["id"])
        assert (held["status"], held["hold_reasons"]) == ("held", ["no_fee_decision"])
        stay["held"] = held
        await decide_fee(billing, as_, pool, stay["customer"]["id"], "2660.00", first.first_day)
        await end_stay(http, pool, stay, first.first_day + timedelta(days=19), "moved_home")
    return stays


async def test_releases_against_a_correction_run_end_in_200_or_409_each_once(
    http, billing, as_, pool, temporal, bridge
):
    """`bridge`: the invoice that names an ended stay lets its lifecycle complete."""
    month = last_month()
    first = month.previous()
    year = today_in_stockholm().year
    fee_admin = as_("fee_admin")
    answers: Counter[int] = Counter()
    requests = before_the_run = 0
    for attempt in range(TRIES):
        stays = await _held_customers(http, billing, as_, pool, first)
        await pool.execute(
            "INSERT INTO billing.invoice_numbers (year, last) VALUES ($1, 0) "
            "ON CONFLICT DO NOTHING",
            year,
        )
        blocker = await pool.acquire()
        try:
            hold = blocker.transaction()
            await hold.start()
            await blocker.execute(
                "SELECT last FROM billing.invoice_numbers WHERE year = $1 FOR UPDATE", year
            )
            started = await billing.post(
                "/billing-runs", json={"period": str(month)}, headers=fee_admin
            )
            assert started.status_code == 202, started.text
            run = started.json()
            if attempt % 2:  # the run's batch first in the queue for the counter, this time
                await _waiting_on_locks(pool, blocker.get_server_pid(), 1)
            releases = [
                asyncio.create_task(
                    billing.post(f"/invoices/{stay['held']['id']}/release", headers=fee_admin)
                )
                for stay in stays
                for _ in range(RELEASES)
            ]
            # the run's batch and every release wait, for the counter or for each other
            await _waiting_on_locks(pool, blocker.get_server_pid(), len(releases) + 1)
            await hold.commit()
        finally:
            await pool.release(blocker)
        answered = await asyncio.gather(*releases)
        requests += len(answered) + 1

        async def completed(run_id: str = run["id"]) -> dict | None:
            body = (await billing.get(f"/billing-runs/{run_id}", headers=as_("admin"))).json()
            assert body["status"] != "failed", body
            return body if body["status"] == "completed" else None

        await wait_for(completed, timeout=60)

        for stay, first_release in zip(stays, range(0, len(answered), RELEASES), strict=True):
            mine = answered[first_release : first_release + RELEASES]
            answers.update(r.status_code for r in mine)
            assert sorted(r.status_code for r in mine) == [200] + [409] * (RELEASES - 1)
            for refused in (r for r in mine if r.status_code == 409):
                assert refused.json()["error"]["code"] == "invoice_issued"
            customer, order = stay["customer"], stay["order"]
            invoices = await invoices_of(billing, as_, customer["id"])
            # the held invoice, released once, and one correction invoice of the month
            assert [(i["period"], i["kind"], i["status"]) for i in invoices] == [
                (str(first), "regular", "issued"),
                (str(month), "correction", "issued"),
            ]
            released = next(r for r in mine if r.status_code == 200).json()
            assert invoices[0] == released
            before_the_run += released["number"] < invoices[1]["number"]
            # the correction counted the held invoice as billed, so with it released the
            # month adds up to what the rules give: the released one was not superseded
            stayed = 20  # the 1st to the 20th of `first`
            assert billed_for(invoices, first, "food") == month_fee(FOOD, first.days - stayed)
            assert billed_for(invoices, first, "care") == month_fee(MAXTAXA, first.days - stayed)
            # one event each; the order's stay is named as ended by exactly one of them
            for invoice in invoices:
                issued = await pool.fetchval(
                    "SELECT count(*) FROM billing.outbox WHERE type = 'invoice.issued' "
                    "AND data ->> 'invoice_id' = $1",
                    invoice["id"],
                )
                assert issued == 1, invoice
            named = await pool.fetchval(
                "SELECT count(*) FROM billing.outbox WHERE type = 'invoice.issued' "
                "AND data -> 'final_order_ids' ? $1",
                order["id"],
            )
            assert named == 1
            lifecycle = temporal.client.get_workflow_handle(order["workflow_id"])

            async def done(handle=lifecycle) -> bool:
                return (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED

            await wait_for(done)

        # every number of the year once, none skipped, whoever took it first
        numbers = await pool.fetchval(
            "SELECT array_agg(number_seq ORDER BY number_seq) FROM billing.invoices "
            "WHERE number_year = $1",
            year,
        )
        last = await pool.fetchval("SELECT last FROM billing.invoice_numbers WHERE year = $1", year)
        assert numbers == list(range(1, last + 1))

    assert set(answers) == {200, 409}  # never a 500
    assert answers[200] == TRIES * CUSTOMERS
    print(
        f"\nrelease against a correction run: {TRIES} tries, {requests} requests "
        f"({answers[200]} × 200, {answers[409]} × 409, 0 × 5xx), every number once; "
        f"{before_the_run} of {answers[200]} releases numbered before the run's batch"
    )


# --- a change that loses a deadlock is tried again, and a 409 if it keeps losing -------------
# A test transaction takes a lock the change needs, waits until the change waits for it, and
# then asks for a lock the change holds: a deadlock. The test's own deadlock_timeout is long,
# so PostgreSQL breaks the circle by failing the change's statement (after its 1 s).


_RECHECK = """INSERT INTO billing.rechecks (customer_id, period) VALUES ($1::uuid, $2)
              ON CONFLICT (customer_id, period)
              DO UPDATE SET seq = nextval('billing.recheck_seq')"""


async def _customer_with_billed_months(http, billing, as_, pool) -> tuple[dict, Period, Period]:
    month = last_month()
    first = month.previous()
    for period in (first, month):  # months a run has reached: a fee decision rechecks them
        await run_month(billing, as_, period)
    customer = await new_customer(http, as_("caseworker"))
    await known_customer(pool, customer["id"])
    return customer, first, month


async def test_a_fee_decision_that_loses_a_deadlock_is_made_once_on_its_next_try(
    http, billing, as_, pool
):
    customer, first, month = await _customer_with_billed_months(http, billing, as_, pool)
    body = {"customer_id": customer["id"], "care_monthly_amount": "2660.00"}
    # the decision writes its rechecks oldest first: it takes `first`, then waits for `month`
    conn = await pool.acquire()
    try:
        await conn.execute("BEGIN; SET LOCAL deadlock_timeout = '60s'")
        await conn.execute(_RECHECK, customer["id"], month.first_day)
        decided = asyncio.create_task(
            billing.post(
                "/fee-decisions",
                json=body | {"valid_from": str(first.first_day)},
                headers=as_("fee_admin"),
            )
        )
        await _waiting_on_locks(pool, conn.get_server_pid(), 1)
        await conn.execute(_RECHECK, customer["id"], first.first_day)  # the decision lost
        await _waiting_on_locks(pool, conn.get_server_pid(), 1)  # its next try waits for us
        await conn.execute("COMMIT")
    finally:
        await pool.release(conn)
    answer = await decided
    assert answer.status_code == 201, answer.text
    made = await pool.fetchval(
        "SELECT count(*) FROM billing.fee_decisions WHERE customer_id = $1::uuid", customer["id"]
    )
    audited = await pool.fetchval(
        "SELECT count(*) FROM billing.audit WHERE customer_id = $1::uuid "
        "AND action = 'fee_decision.create'",
        customer["id"],
    )
    assert (made, audited) == (1, 1)


async def test_a_change_that_keeps_losing_races_is_a_409_and_writes_nothing(
    http, billing, as_, pool, monkeypatch
):
    monkeypatch.setattr(service, "RACE_ATTEMPTS", 1)
    customer, first, month = await _customer_with_billed_months(http, billing, as_, pool)
    body = {"customer_id": customer["id"], "care_monthly_amount": "2660.00"}
    conn = await pool.acquire()
    try:
        await conn.execute("BEGIN; SET LOCAL deadlock_timeout = '60s'")
        await conn.execute(_RECHECK, customer["id"], month.first_day)
        decided = asyncio.create_task(
            billing.post(
                "/fee-decisions",
                json=body | {"valid_from": str(first.first_day)},
                headers=as_("fee_admin"),
            )
        )
        await _waiting_on_locks(pool, conn.get_server_pid(), 1)
        await conn.execute(_RECHECK, customer["id"], first.first_day)
        answer = await decided  # answered while we still hold both
        await conn.execute("ROLLBACK")
    finally:
        await pool.release(conn)
    assert answer.status_code == 409, answer.text
    assert answer.json()["error"] == {
        "code": "concurrent_change",
        "message": "a concurrent change of the same data got in the way of every try; "
        "nothing was changed, try again",
    }
    made = await pool.fetchval(
        "SELECT count(*) FROM billing.fee_decisions WHERE customer_id = $1::uuid", customer["id"]
    )
    assert made == 0


async def test_a_release_that_loses_a_deadlock_is_numbered_once_on_its_next_try(
    http, billing, as_, pool
):
    first = last_month().previous()
    stay = await new_stay(http, as_, pool, start=first.first_day)
    await run_month(billing, as_, first)
    [held] = await invoices_of(billing, as_, stay["customer"]["id"])
    assert held["status"] == "held"
    run_id = await pool.fetchval(
        "SELECT run_id FROM billing.invoices WHERE id = $1::uuid", held["id"]
    )
    before = await pool.fetchrow(
        "SELECT issued, held FROM billing.billing_runs WHERE id = $1", run_id
    )
    year = today_in_stockholm().year
    # a release locks the invoice, takes a number, then counts it on its run: take the run
    # first, then ask for the invoice
    conn = await pool.acquire()
    try:
        await conn.execute("BEGIN; SET LOCAL deadlock_timeout = '60s'")
        await conn.execute("SELECT 1 FROM billing.billing_runs WHERE id = $1 FOR UPDATE", run_id)
        released = asyncio.create_task(
            billing.post(f"/invoices/{held['id']}/release", headers=as_("fee_admin"))
        )
        await _waiting_on_locks(pool, conn.get_server_pid(), 1)
        await conn.execute(
            "SELECT 1 FROM billing.invoices WHERE id = $1::uuid FOR UPDATE", held["id"]
        )  # the release lost
        await _waiting_on_locks(pool, conn.get_server_pid(), 1)  # its next try waits for us
        await conn.execute("COMMIT")
    finally:
        await pool.release(conn)
    answer = await released
    assert answer.status_code == 200, answer.text
    issued = answer.json()
    after = await pool.fetchrow(
        "SELECT issued, held FROM billing.billing_runs WHERE id = $1", run_id
    )
    assert (after["issued"], after["held"]) == (before["issued"] + 1, before["held"] - 1)
    events = await pool.fetchval(
        "SELECT count(*) FROM billing.outbox WHERE type = 'invoice.issued' "
        "AND data ->> 'invoice_id' = $1",
        held["id"],
    )
    assert events == 1
    numbers = await pool.fetchval(
        "SELECT array_agg(number_seq ORDER BY number_seq) FROM billing.invoices "
        "WHERE number_year = $1",
        year,
    )
    last = await pool.fetchval("SELECT last FROM billing.invoice_numbers WHERE year = $1", year)
    assert numbers == list(range(1, last + 1))  # the lost try's number was not kept
    assert issued["number"] in {f"{year}-{n:06d}" for n in numbers}
