"""RabbitMQ stops for 30 s under a steady stream of API writes: no write fails because of
it, every event is delivered once the broker is back, and none has a second effect.

The broker is a private RabbitMQ node of this test (its own name, ports and data folder);
the machine's shared broker, which other tests use, is never touched."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter

import pytest

from services.billing.main import build as build_billing
from services.orders.main import build as build_orders
from tests.integration.conftest import wait_for
from tests.integration.helpers import new_unit
from tests.resilience.conftest import (
    Writes,
    client_of,
    declare_consumer_queues,
    deliveries,
    everything_queue,
)
from tests.resilience.stack import PrivateRabbitMQ, rabbitmq_available

OUTAGE = 30.0  # seconds without a broker
BEFORE = AFTER = 5.0  # seconds of writes around it
EVERY = 0.1  # seconds between two writes


@pytest.mark.skipif(not rabbitmq_available(), reason="rabbitmq-server is not installed")
async def test_writes_go_on_while_rabbitmq_is_down_and_every_event_arrives_once_after(
    settings, as_, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.WARNING, logger="services.common.bus")
    broker = PrivateRabbitMQ()
    try:
        first_start = await broker.start()
        private = settings.model_copy(update={"amqp_url": broker.url})
        orders_app, billing_app = build_orders(private), build_billing(private)
        async with (
            orders_app.router.lifespan_context(orders_app),
            billing_app.router.lifespan_context(billing_app),
            client_of(orders_app, "orders") as http,
        ):
            await declare_consumer_queues(billing_app, broker.url)
            everything = f"{private.queue_prefix}test.everything"
            await everything_queue(broker.url, everything)
            unit = await new_unit(http, as_("admin"))
            # this test's own events: the session's database holds other tests' too
            since = await orders_app.state.pool.fetchval("SELECT now()")
            stream = Writes(http, as_, unit, EVERY)

            stream.start()
            await asyncio.sleep(BEFORE)
            stopped_at = time.monotonic()
            await broker.stop()
            stop_took = time.monotonic() - stopped_at
            during_before = stream.writes["ok"]
            await asyncio.sleep(OUTAGE - stop_took)
            written_while_down = stream.writes["ok"] - during_before
            restart_took = await broker.start()
            pool = orders_app.state.pool
            backlog = await pool.fetchval(
                "SELECT count(*) FROM orders.outbox WHERE published_at IS NULL"
            )
            up_at, up_now = time.monotonic(), await pool.fetchval("SELECT now()")

            async def backlog_sent() -> bool:
                left = await pool.fetchval(
                    """SELECT count(*) FROM orders.outbox
                       WHERE published_at IS NULL AND occurred_at < $1""",
                    up_now,
                )
                return left == 0

            await wait_for(backlog_sent, timeout=60)
            drained = time.monotonic() - up_at
            await asyncio.sleep(max(0.0, AFTER - drained))
            await stream.stop()
            back_at = time.monotonic()

            ids = [c["id"] for c in stream.customers]

            async def all_published() -> bool:
                left = await pool.fetchval(
                    "SELECT count(*) FROM orders.outbox WHERE published_at IS NULL"
                )
                return left == 0

            await wait_for(all_published, timeout=60)
            published_after = time.monotonic() - back_at

            async def billing_knows_all() -> bool:
                count = await pool.fetchval(
                    "SELECT count(*) FROM billing.customers WHERE id = ANY($1::uuid[])", ids
                )
                return count == len(ids)

            await wait_for(billing_knows_all, timeout=60)
            applied_after = time.monotonic() - back_at
            outbox = {
                str(r["id"]): r["type"]
                for r in await pool.fetch(
                    "SELECT id, type FROM orders.outbox WHERE occurred_at >= $1", since
                )
            }
            delivered = await deliveries(broker.url, everything, expected=set(outbox))
            effects = await pool.fetchval(
                "SELECT count(*) FROM billing.customers WHERE id = ANY($1::uuid[])", ids
            )
            inbox = await pool.fetchval(
                "SELECT count(*) FROM billing.inbox WHERE type = 'customer.created' "
                "AND event_id = ANY($1::uuid[])",
                list(outbox),
            )
            relay = orders_app.state.relay.published
    finally:
        broker.remove()

    failures = stream.failures()
    assert failures == {}, failures
    assert written_while_down > 0
    missing = set(outbox) - set(delivered)
    assert missing == set(), f"{len(missing)} events never delivered"
    assert effects == len(ids) and inbox == len(ids)  # each customer learnt once
    twice = sum(1 for n in delivered.values() if n > 1)
    pauses = Counter(
        r.getMessage().split(" paused")[0]
        for r in caplog.records
        if r.name == "services.common.bus" and " paused: " in r.getMessage()
    )
    print(
        f"\nrabbitmq outage: node up in {first_start:.1f} s, stopped in {stop_took:.1f} s, "
        f"down {OUTAGE:.0f} s, up again in {restart_took:.1f} s; {stream.writes['ok']} API writes "
        f"({written_while_down} while down), 0 failed; a backlog of {backlog} events sent "
        f"{drained:.1f} s after the broker was back; reconnect tries {dict(pauses)}; "
        f"{len(outbox)} events in all, published {published_after:.1f} s after the writes "
        f"stopped (relay: {relay} publishes), applied by billing {applied_after:.1f} s after; "
        f"delivered {sum(delivered.values())} "
        f"times ({twice} more than once), {effects} customers learnt once each"
    )
