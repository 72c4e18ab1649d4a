"""A message that a consumer cannot process goes to the dead-letter queue, is reported (log
line and metric at GET /metrics), and the queue keeps flowing behind it."""

from __future__ import annotations

import json
import logging
import time
import uuid

import aio_pika
import pytest
from prometheus_client.parser import text_string_to_metric_families

from services.billing.main import build as build_billing
from services.common.bus import DELIVERY_LIMIT, EXCHANGE, Event
from tests.integration.conftest import wait_for
from tests.resilience.conftest import client_of, declare_consumer_queues


def _samples(text: str, queue: str) -> dict[str, float]:
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.labels.get("queue") == queue
    }


async def test_a_poison_message_is_dead_lettered_counted_and_the_queue_flows_on(
    settings, caplog: pytest.LogCaptureFixture
):
    # a queue of this test alone: the session's other tests send customer.created too
    settings = settings.model_copy(update={"queue_prefix": f"dl-{uuid.uuid4().hex[:8]}."})
    app = build_billing(settings)
    caplog.set_level(logging.ERROR, logger="services.common.bus")
    async with app.router.lifespan_context(app), client_of(app, "billing") as billing:
        [consumer] = app.state.consumers
        await declare_consumer_queues(app, str(settings.amqp_url))
        connection = await aio_pika.connect_robust(str(settings.amqp_url))
        async with connection:
            channel = await connection.channel()
            exchange = await channel.get_exchange(EXCHANGE)
            good = [uuid.uuid4() for _ in range(2)]
            poison = Event(type="customer.created", source="test", data={"customer_id": "x"})
            events = [poison] + [
                Event(
                    type="customer.created",
                    source="test",
                    data={"customer_id": str(c), "customer_number": f"dl-{c.hex[:6]}"},
                )
                for c in good
            ]
            started = time.monotonic()
            for event in events:
                await exchange.publish(
                    aio_pika.Message(event.model_dump_json().encode(), message_id=str(event.id)),
                    routing_key=event.type,
                )

            async def applied() -> bool:
                rows = await app.state.pool.fetchval(
                    "SELECT count(*) FROM billing.customers WHERE id = ANY($1::uuid[])", good
                )
                return rows == len(good)

            await wait_for(applied)
            flowed = time.monotonic() - started
            dead = await channel.declare_queue(f"{consumer.queue_name}.dead", passive=True)
            message = await wait_for(lambda: dead.get(fail=False))
            await message.ack()
            dead_lettered = time.monotonic() - started

        metrics = await billing.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    counted = _samples(metrics.text, consumer.queue_name)
    assert json.loads(message.body)["id"] == str(poison.id)
    assert counted["lifecare_events_dead_lettered_total"] == 1
    assert counted["lifecare_events_retried_total"] == DELIVERY_LIMIT
    # at least: the shared exchange also routes other tests' customer.created to the queue
    assert counted["lifecare_events_consumed_total"] >= len(good)
    assert any(
        f"event {poison.id} (customer.created) dead-lettered after {DELIVERY_LIMIT + 1} attempts"
        in record.getMessage()
        for record in caplog.records
    )
    print(
        f"\ndead letters: 1 poison message dead-lettered after {DELIVERY_LIMIT + 1} deliveries "
        f"({counted['lifecare_events_retried_total']:.0f} retries) in {dead_lettered:.2f} s; "
        f"the {len(good)} events behind it applied in {flowed:.2f} s"
    )
