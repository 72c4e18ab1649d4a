"""The Temporal server stops for 30 s under a stream of writes: what needs it (a new order,
a confirmation) is answered 503 and leaves nothing behind, what does not (a customer, an
absence) goes on; the APIs take writes again by themselves once it is back, and the event
bridge holds the absences registered meanwhile until it can tell their lifecycles.

The server is a Temporal dev server of this test alone that keeps its state in a file, so
it comes back with its workflows; the worker runs as a process of its own."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

import httpx

from services.absence.main import build as build_absence
from services.common.dates import today_in_stockholm
from services.orders.main import build as build_orders
from tests.integration.absence.helpers import register
from tests.integration.conftest import wait_for
from tests.integration.helpers import new_customer, new_order, new_unit
from tests.resilience.conftest import client_of, declare_consumer_queues
from tests.resilience.stack import LifecareProcess, PrivateTemporal, Worker
from workflows.models import lifecycle_id
from workflows.order_lifecycle import OrderLifecycle

OUTAGE = 30.0  # seconds without Temporal
BEFORE = AFTER = 4.0  # seconds of writes around it
EVERY = 0.2  # seconds between two writes
STAYS = 6  # confirmed orders whose customers are away while Temporal is down


async def test_writes_that_need_temporal_get_503_and_nothing_is_lost_while_it_is_down(
    settings, as_, log_dir: Path, tmp_path: Path
):
    temporal = PrivateTemporal(tmp_path)
    first_start = await temporal.start()
    private = settings.model_copy(
        update={"temporal_address": temporal.address, "task_queue": f"to-{uuid.uuid4().hex[:8]}"}
    )
    worker = Worker(LifecareProcess(private, ["worker"], log_dir, "worker"))
    orders_app, absence_app = build_orders(private), build_absence(private)
    try:
        await worker.start()
        async with (
            orders_app.router.lifespan_context(orders_app),
            absence_app.router.lifespan_context(absence_app),
            client_of(orders_app, "orders") as http,
            client_of(absence_app, "absence") as absence_http,
        ):
            await declare_consumer_queues(absence_app, str(private.amqp_url))
            caseworker, admin = as_("caseworker"), as_("admin")
            unit = await new_unit(http, admin)
            provider = as_("provider", unit=unit)
            today = today_in_stockholm()
            away = [await _confirmed(http, caseworker, provider, unit) for _ in range(STAYS)]

            answers: Counter[int] = Counter()
            refused: list[str] = []  # customers whose order was answered 503
            ordered: list[str] = []  # the orders answered 201
            took_again = asyncio.Event()
            down = asyncio.Event()
            stop = asyncio.Event()

            async def write() -> None:
                while not stop.is_set():
                    customer = await new_customer(http, caseworker, first_name="Ruth")
                    answer = await _order(http, caseworker, customer["id"], unit)
                    answers[answer.status_code] += 1
                    if answer.status_code == 503:
                        refused.append(customer["id"])
                    elif answer.status_code == 201:
                        ordered.append(answer.json()["id"])
                        if down.is_set() and temporal.env is not None:
                            took_again.set()
                    await asyncio.sleep(EVERY)

            writer = asyncio.create_task(write())
            await asyncio.sleep(BEFORE)
            stopped = time.monotonic()
            await temporal.stop()
            down.set()
            # absences need no workflow to be registered: the bridge holds their events
            registered = [
                await register(absence_http, provider, customer_id, today)
                for customer_id, _order_id in away
            ]
            ordered_before_outage = ordered[-1]
            confirm_while_down = await http.post(
                f"/orders/{ordered_before_outage}/confirm",
                json={"start_date": str(today)},
                headers=provider,
            )
            await asyncio.sleep(max(0.0, OUTAGE - (time.monotonic() - stopped)))
            restart = await temporal.start()
            back = time.monotonic()
            await asyncio.wait_for(took_again.wait(), timeout=60)
            taken_after = time.monotonic() - back
            await asyncio.sleep(AFTER)
            stop.set()
            await writer

            client = orders_app.state.temporal

            async def every_absence_told() -> bool:
                for _customer, order_id in away:
                    handle = client.get_workflow_handle(lifecycle_id(order_id))
                    state = await handle.query(OrderLifecycle.status)
                    if not state.absences:
                        return False
                return True

            assert [r.status_code for r in registered] == [201] * STAYS, registered[0].text
            await wait_for(every_absence_told, timeout=60)
            told_after = time.monotonic() - back
            not_confirmed = await http.get(f"/orders/{ordered_before_outage}", headers=caseworker)
            pool = orders_app.state.pool
            left_behind = await pool.fetchval(
                "SELECT count(*) FROM orders.orders WHERE customer_id = ANY($1::uuid[])",
                [uuid.UUID(c) for c in refused],
            )
            stored = await pool.fetchval(
                "SELECT count(*) FROM orders.orders WHERE id = ANY($1::uuid[])",
                [uuid.UUID(o) for o in ordered],
            )
            running = 0
            for order_id in ordered:
                description = await client.get_workflow_handle(lifecycle_id(order_id)).describe()
                running += description.status is not None
    finally:
        worker.process.stop()
        await temporal.stop()

    assert set(answers) <= {201, 503}, answers  # never a 500
    assert answers[503] > 0 and refused
    assert confirm_while_down.status_code == 503, confirm_while_down.text
    assert not_confirmed.json()["status"] == "unconfirmed"  # the refused confirm left nothing
    assert left_behind == 0, "an order answered 503 was stored"
    assert stored == running == len(ordered)  # every stored order has its lifecycle
    print(
        f"\ntemporal outage: server up in {first_start:.1f} s, down {OUTAGE:.0f} s, up again in "
        f"{restart:.1f} s; {sum(answers.values())} orders asked for: {answers[201]} taken, "
        f"{answers[503]} answered 503 (nothing stored for them), 0 other; writes taken again "
        f"{taken_after:.1f} s after it was back; {STAYS} absences registered while it was "
        f"down, all told to their lifecycles {told_after:.1f} s after it was back"
    )


async def _order(http: httpx.AsyncClient, caseworker: dict, customer_id: str, unit: str):
    return await http.post(
        "/orders",
        json={
            "customer_id": customer_id,
            "unit_id": unit,
            "decision_date": str(today_in_stockholm() - timedelta(days=7)),
            "text": "Beviljas särskilt boende.",
        },
        headers=caseworker,
    )


async def _confirmed(
    http: httpx.AsyncClient, caseworker: dict, provider: dict, unit: str
) -> tuple[str, str]:
    """A customer whose order the unit confirmed, moving in today: (customer, order)."""
    customer = await new_customer(http, caseworker, first_name="Ruth")
    order = await new_order(
        http, caseworker, customer, unit, today_in_stockholm() - timedelta(days=7)
    )
    answer = await http.post(
        f"/orders/{order['id']}/confirm",
        json={"start_date": str(today_in_stockholm())},
        headers=provider,
    )
    assert answer.status_code == 200, answer.text
    return customer["id"], order["id"]
