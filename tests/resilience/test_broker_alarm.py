"""RabbitMQ raises its memory alarm for 20 s under a stream of API writes: the broker blocks
every publisher, so the relay holds its events in the outbox; no write fails, and once the
alarm clears every event is delivered and none has a second effect.

The broker is a private RabbitMQ node of this test; the machine's shared one is untouched."""

from __future__ import annotations

import asyncio
import time

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

ALARM = 20.0  # seconds the broker blocks its publishers
BEFORE = 3.0  # seconds of writes before it
EVERY = 0.1  # seconds between two writes


@pytest.mark.skipif(not rabbitmq_available(), reason="rabbitmq-server is not installed")
async def test_the_relay_holds_its_events_while_the_broker_blocks_publishers(settings, as_):
    broker = PrivateRabbitMQ()
    try:
        await broker.start()
        private = settings.model_copy(update={"amqp_url": broker.url})
        orders_app, billing_app = build_orders(private), build_billing(private)
        async with (
            orders_app.router.lifespan_context(orders_app),
            billing_app.router.lifespan_context(billing_app),
            client_of(orders_app, "orders") as http,
        ):
            await declare_consumer_queues(billing_app, broker.url)
            everything = f"{private.queue_prefix}test.alarm.everything"
            await everything_queue(broker.url, everything)
            unit = await new_unit(http, as_("admin"))
            # this test's own events: the session's database holds other tests' too
            since = await orders_app.state.pool.fetchval("SELECT now()")
            pool = orders_app.state.pool
            stream = Writes(http, as_, unit, EVERY)

            async def unsent() -> int:
                return await pool.fetchval(
                    "SELECT count(*) FROM orders.outbox WHERE published_at IS NULL"
                )

            stream.start()
            await asyncio.sleep(BEFORE)
            await broker.memory_alarm(on=True)
            # events written from two seconds into the alarm on (a publish under way when it
            # rose may still have got through)
            blocked_from = await pool.fetchval("SELECT now() + interval '2 seconds'")
            written_before = stream.writes["ok"]
            await asyncio.sleep(ALARM)
            written_during = stream.writes["ok"] - written_before
            # what was written under the alarm is held, not published and not dropped
            held = await pool.fetchval(
                """SELECT count(*) FROM orders.outbox
                   WHERE published_at IS NULL AND occurred_at > $1""",
                blocked_from,
            )
            published_during = await pool.fetchval(
                "SELECT count(*) FROM orders.outbox WHERE published_at > $1",
                blocked_from,
            )
            backlog = await unsent()
            await broker.memory_alarm(on=False)
            cleared_at = time.monotonic()
            await wait_for(lambda: _none(unsent), timeout=60)
            drained = time.monotonic() - cleared_at
            await stream.stop()
            await wait_for(lambda: _none(unsent), timeout=60)

            ids = [c["id"] for c in stream.customers]

            async def billing_knows_all() -> bool:
                count = await pool.fetchval(
                    "SELECT count(*) FROM billing.customers WHERE id = ANY($1::uuid[])", ids
                )
                return count == len(ids)

            await wait_for(billing_knows_all, timeout=60)
            outbox = {
                str(r["id"])
                for r in await pool.fetch(
                    "SELECT id FROM orders.outbox WHERE occurred_at >= $1", since
                )
            }
            delivered = await deliveries(broker.url, everything, expected=outbox)
            learnt = await pool.fetchval(
                "SELECT count(*) FROM billing.inbox WHERE type = 'customer.created' "
                "AND event_id = ANY($1::uuid[])",
                list(outbox),
            )
    finally:
        broker.remove()

    failures = stream.failures()
    assert failures == {}, failures
    assert written_during > 0 and held > 0
    assert published_during == 0, "the relay published while the broker blocked it"
    assert outbox - set(delivered) == set(), "events never delivered"
    assert learnt == len(ids)  # each customer learnt once
    print(
        f"\nrabbitmq memory alarm: {ALARM:.0f} s blocked, {stream.writes['ok']} API writes "
        f"({written_during} while blocked), 0 failed; {backlog} events held in the outbox, "
        f"0 published while blocked, sent {drained:.1f} s after the alarm cleared; "
        f"{len(outbox)} events delivered {sum(delivered.values())} times "
        f"({sum(1 for n in delivered.values() if n > 1)} more than once), "
        f"{learnt} customers learnt once each"
    )


async def _none(unsent) -> bool:  # type: ignore[no-untyped-def]
    return await unsent() == 0
