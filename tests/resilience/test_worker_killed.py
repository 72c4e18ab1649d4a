"""kill -9 the worker while 200 orders are between creation, confirmation and ending, and
again while their month is billed: once it is started again every lifecycle completes its
step, and there is not one duplicated execution, event, reminder or invoice.

The worker runs as `python -m lifecare.cli worker` with the test's settings; the orders and
billing services run in this process, on the session's Temporal server, database and the
machine's RabbitMQ (queues of the session's own prefix).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import date, timedelta

import httpx

from services.billing.domain import period_to_bill
from services.billing.main import build as build_billing
from services.common.dates import today_in_stockholm
from services.orders.main import build as build_orders
from tests.integration.billing.helpers import TARIFFS
from tests.integration.conftest import wait_for
from tests.integration.helpers import new_customer, new_unit
from tests.resilience.conftest import client_of, declare_consumer_queues
from tests.resilience.stack import LifecareProcess, Worker
from workflows.models import lifecycle_id

ORDERS = 200
PARALLEL = 20
KILL_AFTER_CONFIRMED = 60  # the first kill: this many confirmed, the rest on their way
DEAD_FOR = 2.0  # seconds between kill -9 and the new worker


async def test_the_worker_killed_twice_leaves_no_step_undone_and_none_done_twice(
    settings, as_, log_dir
):
    month = period_to_bill(today_in_stockholm())
    first, last = month.first_day, month.first_day + timedelta(days=14)
    settings = settings.model_copy(update={"reminder_after": timedelta(seconds=2)})
    settings = settings.model_copy(update={"reminder_every": timedelta(hours=1)})
    worker = Worker(LifecareProcess(settings, ["worker"], log_dir, "worker"))
    orders_app, billing_app = build_orders(settings), build_billing(settings)
    timings: dict[str, float] = {}
    async with (
        orders_app.router.lifespan_context(orders_app),
        billing_app.router.lifespan_context(billing_app),
        client_of(orders_app, "orders") as http,
        client_of(billing_app, "billing") as billing,
    ):
        await declare_consumer_queues(billing_app, str(settings.amqp_url))
        timings["worker start"] = await worker.start()
        try:
            assert (
                await billing.put("/tariffs", json=TARIFFS, headers=as_("fee_admin"))
            ).is_success
            unit = await new_unit(http, as_("admin"))
            provider = as_("provider", unit=unit)
            stages: Counter[str] = Counter()
            waits: list[float] = []
            gate = asyncio.Semaphore(PARALLEL)

            async def create(n: int) -> dict:
                async with gate:
                    return await _create(http, as_, unit, first, stages, waits)

            async def live(created: dict) -> dict:
                async with gate:
                    return await _confirm_and_end(
                        http, created, provider, first, last, stages, waits
                    )

            started = time.monotonic()
            created = await asyncio.gather(*(create(n) for n in range(ORDERS)))
            lives = [asyncio.create_task(live(c)) for c in created]
            await wait_for(
                lambda: _at_least(stages, "confirmed", KILL_AFTER_CONFIRMED), timeout=120
            )
            at_kill = {**stages, "in flight": stages["calling"]}
            at_kill.pop("calling")
            timings["restart 1"] = await worker.kill_and_restart(DEAD_FOR)
            done = await asyncio.gather(*lives)
            timings["200 lives"] = time.monotonic() - started

            customers = [d["customer"] for d in done]
            await _decide_fees(billing, as_, billing_app, customers, first)
            started = time.monotonic()
            run = await billing.post(
                "/billing-runs", json={"period": str(month)}, headers=as_("fee_admin")
            )
            assert run.status_code == 202, run.text
            timings["restart 2"] = await worker.kill_and_restart(DEAD_FOR)
            await wait_for(lambda: _run_completed(billing, as_, run.json()["id"]), timeout=120)
            timings["billing run"] = time.monotonic() - started
            client = orders_app.state.temporal
            ids = [lifecycle_id(d["order"]["id"]) for d in done]
            await wait_for(lambda: _all_completed(client, ids), timeout=120, interval=1.0)
            timings["all completed"] = time.monotonic() - started
        finally:
            worker.process.stop()

        pool = orders_app.state.pool
        order_ids = [d["order"]["id"] for d in done]
        customer_ids = [c["id"] for c in customers]
        executions = await pool.fetch(
            """SELECT order_id, count(*) AS n FROM orders.executions
               WHERE order_id = ANY($1::uuid[]) GROUP BY order_id""",
            order_ids,
        )
        events = await pool.fetch(
            """SELECT type, data->>'order_id' AS order_id, data->>'kind' AS kind, count(*) AS n
               FROM orders.outbox WHERE data->>'order_id' = ANY($1::text[])
               GROUP BY 1, 2, 3""",
            order_ids,
        )
        invoices = await pool.fetch(
            """SELECT i.customer_id, i.status, i.number_seq, count(l.*) AS lines
               FROM billing.invoices i JOIN billing.invoice_lines l ON l.invoice_id = i.id
               WHERE i.customer_id = ANY($1::uuid[]) GROUP BY i.id""",
            customer_ids,
        )

    assert sorted(r["n"] for r in executions) == [1] * ORDERS
    by_type = Counter()
    for row in events:
        assert row["n"] == 1, dict(row)  # one event per order, type and kind
        by_type[row["kind"] or row["type"]] += 1
    for kind in ("order.created", "order.confirmed", "execution.started", "execution.ended"):
        assert by_type[kind] == ORDERS, (kind, by_type)
    assert by_type["order.reminder"] > 0  # unconfirmed past 2 s: one reminder each, no more
    assert len(invoices) == ORDERS
    assert {r["status"] for r in invoices} == {"issued"}
    assert {r["lines"] for r in invoices} == {2}  # food and care, once each
    numbers = sorted(r["number_seq"] for r in invoices)
    assert numbers == list(range(numbers[0], numbers[0] + ORDERS))  # gapless
    print(
        f"\nworker kill -9: {ORDERS} orders created, then confirmed and ended {PARALLEL} at a "
        f"time; the first kill with the orders at {at_kill}, the second right after the "
        f"billing run started; the worker polled again {timings['restart 1']:.1f} s and "
        f"{timings['restart 2']:.1f} s after each start; {ORDERS} lives in "
        f"{timings['200 lives']:.1f} s ({len(waits)} API calls, the slowest {max(waits):.1f} s); "
        f"billing run {timings['billing run']:.1f} s, all {ORDERS} lifecycles completed "
        f"{timings['all completed']:.1f} s after it began; executions 1 each, events once each "
        f"{dict(by_type)}, {len(invoices)} invoices numbered {numbers[0]}..{numbers[-1]}"
    )


async def _create(http, as_, unit, first, stages, waits) -> dict:  # type: ignore[no-untyped-def]
    customer = await new_customer(http, as_("caseworker"), first_name="Elvy")
    body = {
        "customer_id": customer["id"],
        "unit_id": unit,
        "service": "sol_boende",
        "decision_date": str(first),
        "text": "Beviljas särskilt boende.",
    }
    order = await _timed(waits, stages, http.post("/orders", json=body, headers=as_("caseworker")))
    stages["unconfirmed"] += 1
    return {"customer": customer, "order": order.json()}


async def _confirm_and_end(http, created, provider, first, last, stages, waits) -> dict:  # type: ignore[no-untyped-def]
    order = created["order"]
    confirm = {"start_date": str(first)}
    confirmed = await _timed(
        waits, stages, http.post(f"/orders/{order['id']}/confirm", json=confirm, headers=provider)
    )
    stages["unconfirmed"] -= 1
    stages["confirmed"] += 1
    execution = confirmed.json()["execution_id"]
    end = {"end_date": str(last), "reason": "moved_home", "confirmed": True}
    await _timed(
        waits, stages, http.post(f"/executions/{execution}/end", json=end, headers=provider)
    )
    stages["confirmed"] -= 1
    stages["ended"] += 1
    return created


async def _timed(waits: list[float], stages: Counter[str], request) -> httpx.Response:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    stages["calling"] += 1
    try:
        response = await request
    finally:
        stages["calling"] -= 1
    waits.append(time.monotonic() - started)
    assert response.status_code < 300, response.text
    return response


async def _at_least(stages: Counter[str], stage: str, n: int) -> bool:
    return stages[stage] + stages["ended"] >= n


async def _decide_fees(billing, as_, billing_app, customers: list[dict], since: date) -> None:  # type: ignore[no-untyped-def]
    ids = [c["id"] for c in customers]

    async def known() -> bool:
        count = await billing_app.state.pool.fetchval(
            "SELECT count(*) FROM billing.customers WHERE id = ANY($1::uuid[])", ids
        )
        return count == len(ids)

    await wait_for(known, timeout=60)
    for customer_id in ids:
        body = {
            "customer_id": customer_id,
            "care_monthly_amount": "2000.00",
            "valid_from": str(since),
        }
        response = await billing.post("/fee-decisions", json=body, headers=as_("fee_admin"))
        assert response.status_code == 201, response.text


async def _run_completed(billing, as_, run_id: str) -> bool:  # type: ignore[no-untyped-def]
    body = (await billing.get(f"/billing-runs/{run_id}", headers=as_("admin"))).json()
    assert body["status"] != "failed", body
    return body["status"] == "completed"


async def _all_completed(client, ids: list[str]) -> bool:  # type: ignore[no-untyped-def]
    statuses = await asyncio.gather(*(client.get_workflow_handle(i).describe() for i in ids))
    return all(s.status is not None and s.status.name == "COMPLETED" for s in statuses)
