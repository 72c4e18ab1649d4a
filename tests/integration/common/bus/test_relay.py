"""The outbox relay against the real RabbitMQ and PostgreSQL: committed events in order, whole,
a refused batch kept for the next try, qualified routing keys."""

from __future__ import annotations

import asyncio
import contextlib

import aio_pika
import aiormq
import pytest

from services.common.bus import (
    EXCHANGE,
    Event,
    EventConsumer,
    OutboxRelay,
    add_to_outbox,
    declare_queue,
)
from tests.integration.common.bus.helpers import count, drain, listen, running
from tests.integration.conftest import wait_for


async def test_relay_publishes_committed_events_in_order_and_marks_them(
    pool, schema, settings, channel
):
    kind = f"test.{schema}"
    seen = await listen(channel, kind)
    async with pool.acquire() as conn:
        async with conn.transaction():
            for n in range(5):
                await add_to_outbox(conn, schema=schema, type=kind, data={"n": n})
        with contextlib.suppress(RuntimeError):
            async with conn.transaction():
                await add_to_outbox(conn, schema=schema, type=kind, data={"n": "rolled back"})
                raise RuntimeError("the change failed")

    relay = OutboxRelay(pool, schema=schema, amqp_url=str(settings.amqp_url), batch=2)
    async with running(relay.run()):
        await wait_for(lambda: count(seen, 5))
        await asyncio.sleep(0.3)  # give a stray extra message the chance to show up

    assert [e["data"]["n"] for e in seen] == [0, 1, 2, 3, 4]
    assert all(e["message_id"] == e["id"] and e["persistent"] for e in seen)
    assert all(e["source"] == schema for e in seen)
    async with pool.acquire() as conn:
        unsent = await conn.fetchval(
            f"SELECT count(*) FROM {schema}.outbox WHERE published_at IS NULL"
        )
    assert unsent == 0


async def test_an_event_larger_than_a_frame_arrives_whole(pool, schema, settings, channel):
    kind = f"test.{schema}"
    seen = await listen(channel, kind)
    text = "å" * 300_000  # 600 kB of UTF-8: several AMQP body frames at the default frame size
    async with pool.acquire() as conn, conn.transaction():
        await add_to_outbox(conn, schema=schema, type=kind, data={"text": text})
        await add_to_outbox(conn, schema=schema, type=kind, data={"text": "after it"})

    relay = OutboxRelay(pool, schema=schema, amqp_url=str(settings.amqp_url))
    async with running(relay.run()):
        await wait_for(lambda: count(seen, 2))

    assert [e["data"]["text"] for e in seen] == [text, "after it"]


async def test_a_batch_the_broker_refuses_stays_unsent_and_the_next_is_confirmed(
    pool, schema, settings, connection
):
    """A nack fails the whole batch, which stays in the outbox for the next try; the
    channel's confirmations stay in step, so later batches are confirmed one by one."""
    refused, accepted = f"test.{schema}.refused", f"test.{schema}.accepted"
    channel = await connection.channel(publisher_confirms=True)
    exchange = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
    full = await channel.declare_queue(
        exclusive=True, arguments={"x-max-length": 0, "x-overflow": "reject-publish"}
    )
    await full.bind(exchange, routing_key=refused)
    seen = await listen(channel, accepted)
    relay = OutboxRelay(pool, schema=schema, amqp_url=str(settings.amqp_url), batch=3)

    async with pool.acquire() as conn, conn.transaction():
        for n in range(3):
            await add_to_outbox(conn, schema=schema, type=accepted, data={"n": n})
    assert await relay.publish_pending(channel) == 3
    async with pool.acquire() as conn, conn.transaction():
        await add_to_outbox(conn, schema=schema, type=accepted, data={"n": 3})
        await add_to_outbox(conn, schema=schema, type=refused, data={"n": 4})
    with pytest.raises(aiormq.exceptions.DeliveryError):
        await relay.publish_pending(channel)
    async with pool.acquire() as conn:
        unsent = await conn.fetch(
            f"SELECT data->>'n' AS n FROM {schema}.outbox WHERE published_at IS NULL ORDER BY seq"
        )
        assert [r["n"] for r in unsent] == ["3", "4"]
        await conn.execute(f"DELETE FROM {schema}.outbox WHERE type = $1", refused)
        async with conn.transaction():
            for n in range(5, 8):
                await add_to_outbox(conn, schema=schema, type=accepted, data={"n": n})
    assert await relay.publish_pending(channel) == 3  # 3 (again), 5, 6
    assert await relay.publish_pending(channel) == 1  # 7
    await wait_for(lambda: count(seen, 8))
    # at least once: 3 was published with the refused batch and again after it
    assert [e["data"]["n"] for e in seen] == [0, 1, 2, 3, 3, 5, 6, 7]


async def test_a_qualified_routing_key_reaches_its_type_s_consumers_and_those_bound_to_it_alone(
    pool, schema, settings, channel
):
    kind = f"test.{schema}"
    qualified = f"{kind}.final"

    # as SQL over the outbox row, as a service gives it to its relay
    routing_key = f"CASE WHEN (data ->> 'final')::boolean THEN '{qualified}' ELSE type END"

    async def note(conn, event: Event) -> None:
        pass  # not consumed here: the queues' contents are what is checked

    every = EventConsumer(
        pool,
        schema=schema,
        amqp_url=str(settings.amqp_url),
        queue=f"{settings.queue_prefix}{schema}.every",
        handlers={kind: note},
        expires=settings.queue_expires,
    )
    # a queue an earlier version bound by exact type: declaring it anew retires that binding
    narrow_name = f"{settings.queue_prefix}{schema}.final-only"
    await declare_queue(channel, narrow_name, [kind], expires=settings.queue_expires)
    narrow = EventConsumer(
        pool,
        schema=schema,
        amqp_url=str(settings.amqp_url),
        queue=narrow_name,
        handlers={kind: note},
        expires=settings.queue_expires,
        bindings=[qualified],
    )
    for consumer in (every, narrow):
        await consumer.declare(channel)

    async with pool.acquire() as conn, conn.transaction():
        for n in range(4):
            await add_to_outbox(conn, schema=schema, type=kind, data={"n": n, "final": n == 2})
    relay = OutboxRelay(
        pool, schema=schema, amqp_url=str(settings.amqp_url), routing_key=routing_key
    )

    async def published() -> bool:
        return relay.published == 4

    async with running(relay.run()):
        await wait_for(published)

    # confirmed publishes are in their queues already
    every_got = await drain(channel, every.queue_name)
    narrow_got = await drain(channel, narrow_name)
    assert sorted(n for n, _ in every_got) == [0, 1, 2, 3]
    assert narrow_got == [(2, qualified)]
