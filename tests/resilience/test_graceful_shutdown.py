"""SIGTERM in the middle of load, as a cluster sends it when it moves or scales a pod: an
API finishes the requests it took and takes no new ones; a worker lets its running
activities finish and leaves its workflows to the other worker. No accepted request fails,
no event is lost, no activity has its effect twice."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import date, timedelta

import httpx

from lifecare.demo import random_test_personnummer
from services.orders.main import build as build_orders
from tests.integration.conftest import wait_for
from tests.integration.helpers import new_customer, new_unit
from tests.resilience.conftest import client_of
from tests.resilience.stack import LifecareProcess, free_port, port_open, until

ORDERS = 60
PARALLEL = 15
STOP_AFTER = 20  # confirmed orders when the first worker gets its SIGTERM


async def test_a_worker_stopped_mid_load_finishes_its_activities_and_the_other_goes_on(
    settings, as_, log_dir
) -> None:
    first = LifecareProcess(settings, ["worker"], log_dir, "worker-1")
    second = LifecareProcess(settings, ["worker"], log_dir, "worker-2")
    polling = f"worker polling task queue {settings.task_queue}"
    orders_app = build_orders(settings)
    async with (
        orders_app.router.lifespan_context(orders_app),
        client_of(orders_app, "orders") as http,
    ):
        for worker in (first, second):
            worker.start()
        await wait_for(
            lambda: asyncio.sleep(0, all(polling in w.output() for w in (first, second))),
            timeout=60,
        )
        try:
            unit = await new_unit(http, as_("admin"))
            provider = as_("provider", unit=unit)
            decided = date.today() - timedelta(days=3)
            customers = [
                await new_customer(http, as_("caseworker"), first_name="Sigrid")
                for _ in range(ORDERS)
            ]
            created = await asyncio.gather(
                *(
                    http.post(
                        "/orders",
                        json={
                            "customer_id": c["id"],
                            "unit_id": unit,
                            "service": "sol_boende",
                            "decision_date": str(decided),
                            "text": "Beviljas särskilt boende.",
                        },
                        headers=as_("caseworker"),
                    )
                    for c in customers
                )
            )
            assert {r.status_code for r in created} == {201}
            confirmed: Counter[int] = Counter()
            gate = asyncio.Semaphore(PARALLEL)

            async def confirm(order: dict) -> int:
                async with gate:
                    answer = await http.post(
                        f"/orders/{order['id']}/confirm",
                        json={"start_date": str(decided)},
                        headers=provider,
                    )
                confirmed[answer.status_code] += 1
                return answer.status_code

            tasks = [asyncio.create_task(confirm(r.json())) for r in created]
            await wait_for(lambda: asyncio.sleep(0, confirmed[200] >= STOP_AFTER), timeout=120)
            stopped_at = time.monotonic()
            assert first.process is not None
            first.process.terminate()  # SIGTERM
            answers = await asyncio.gather(*tasks)
            exit_code = await asyncio.to_thread(first.process.wait, 30)
            stopped_in = time.monotonic() - stopped_at
        finally:
            first.stop()
            second.stop()
        pool = orders_app.state.pool
        ids = [r.json()["id"] for r in created]
        executions = await pool.fetch(
            "SELECT order_id, count(*) AS n FROM orders.executions "
            "WHERE order_id = ANY($1::uuid[]) GROUP BY order_id",
            ids,
        )
        events = await pool.fetch(
            "SELECT data->>'order_id' AS order_id, count(*) AS n FROM orders.outbox "
            "WHERE type = 'order.confirmed' AND data->>'order_id' = ANY($1::text[]) GROUP BY 1",
            [str(i) for i in ids],
        )
    assert answers == [200] * ORDERS, Counter(answers)
    assert exit_code == 0, first.output()[-2000:]
    assert sorted(r["n"] for r in executions) == [1] * ORDERS  # no activity's effect twice
    assert sorted(r["n"] for r in events) == [1] * ORDERS
    print(
        f"\nworker SIGTERM: {ORDERS} orders confirmed {PARALLEL} at a time, the first worker "
        f"stopped after {STOP_AFTER} and exited 0 in {stopped_in:.1f} s; every confirm 200, "
        "one execution and one order.confirmed each"
    )


async def test_an_api_stopped_mid_load_answers_every_request_it_took(settings, as_, log_dir):
    port = free_port()
    api = LifecareProcess(settings, ["serve", "orders", "--port", str(port)], log_dir, "orders")
    api.start()
    base = f"http://127.0.0.1:{port}"
    outcomes: Counter[str] = Counter()
    answered: list[str] = []
    sent: list[str] = []
    stop = asyncio.Event()
    signalled = asyncio.Event()
    after_signal: list[str] = []  # requests in flight at SIGTERM and answered after it

    async def one() -> None:
        # born 1900-1919: no other test's customers (1925-1945), so a number found stored
        # afterwards was stored by this test
        personnummer = random_test_personnummer(born_from=1900, born_to=1919)
        body = {"personnummer": personnummer, "first_name": "Tyra", "last_name": "Stopp"}
        # a connection per request: a refused connection is a request not taken
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            try:
                answer = await client.post(
                    "/customers",
                    json=body,
                    headers={**as_("caseworker"), "Connection": "close"},
                )
            except httpx.ConnectError:
                outcomes["refused"] += 1
                return
            except httpx.TransportError:
                # connected but closed before the server read the request (uvicorn closes
                # connections it has not begun to serve): not taken, so it must have had no
                # effect, which the check of what was stored below proves
                outcomes["closed unread"] += 1
                sent.append(personnummer)
                return
        if answer.status_code != 409:  # 409: drawn twice, the first one stored it
            sent.append(personnummer)
        outcomes[str(answer.status_code)] += 1
        if answer.status_code == 201:
            answered.append(answer.json()["id"])
            if signalled.is_set():
                after_signal.append(answer.json()["id"])

    async def client() -> None:
        while not stop.is_set():
            await one()

    try:
        await until("the orders API", lambda: port_open(port), 60)
        clients = [asyncio.create_task(client()) for _ in range(8)]
        await wait_for(lambda: asyncio.sleep(0, outcomes["201"] >= 40), timeout=60)
        assert api.process is not None
        api.process.terminate()  # SIGTERM
        signalled.set()
        exit_code = await asyncio.to_thread(api.process.wait, 30)
        stop.set()
        await asyncio.gather(*clients)
    finally:
        api.stop()
    failed = {k: v for k, v in outcomes.items() if k.startswith("5")}
    assert not failed, dict(outcomes)
    # uvicorn finishes, then ends by the signal it caught (-15), as a process should
    assert exit_code in (0, -15), api.output()[-2000:]
    assert "Application shutdown complete" in api.output()
    assert outcomes["refused"] > 0  # it stopped taking requests
    assert after_signal  # and answered those it had taken
    # 409: a random personnummer repeated
    assert set(outcomes) <= {"201", "409", "refused", "closed unread"}, dict(outcomes)

    # nothing half-done: a customer was stored exactly when the answer said so, and each of
    # their customer.created events is published once the API is back
    orders_app = build_orders(settings)
    async with orders_app.router.lifespan_context(orders_app):
        pool = orders_app.state.pool
        stored = await pool.fetch(
            "SELECT id::text FROM orders.customers WHERE personnummer = ANY($1)", sent
        )
        # a request taken was answered; one not taken left nothing behind
        assert sorted(r["id"] for r in stored) == sorted(answered)
        await wait_for(lambda: _all_published(pool, answered), timeout=60)
    print(
        f"\nAPI SIGTERM under 8 clients: {dict(outcomes)}, {len(after_signal)} answered after "
        "the signal; shut down cleanly; every 201 stored, nothing else stored, every "
        "customer.created published"
    )


async def _all_published(pool, customer_ids: list[str]) -> bool:  # type: ignore[no-untyped-def]
    unpublished = await pool.fetchval(
        "SELECT count(*) FROM orders.outbox WHERE type = 'customer.created' "
        "AND data->>'customer_id' = ANY($1::text[]) AND published_at IS NULL",
        customer_ids,
    )
    return unpublished == 0
