"""The event bus against the real RabbitMQ and PostgreSQL: outbox, relay, inbox, dead letters."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid

import aio_pika
import aiormq
import pytest

from services.common.bus import (
    EXCHANGE,
    Event,
    EventConsumer,
    OutboxRelay,
    add_to_outbox,
    bus_tables_sql,
    declare_queue,
)
from tests.integration.conftest import wait_for


@pytest.fixture
async def schema(pool):
    """A scratch schema with outbox and inbox tables, as a service's first migration makes."""
    name = f"bus_{uuid.uuid4().hex[:8]}"
    async with pool.acquire() as conn:
        await conn.execute(f"CREATE SCHEMA {name}")
        await conn.execute(bus_tables_sql(name))
    yield name
    async with pool.acquire() as conn:
        await conn.execute(f"DROP SCHEMA {name} CASCADE")


@pytest.fixture
async def connection(settings):
    connection = await aio_pika.connect_robust(str(settings.amqp_url))
    yield connection
    await connection.close()


@pytest.fixture
async def channel(connection):
    return await connection.channel()


async def _listen(channel, routing_key: str) -> list[dict]:
    exchange = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
    queue = await channel.declare_queue(exclusive=True)
    await queue.bind(exchange, routing_key=routing_key)
    seen: list[dict] = []

    async def collect(message):
        async with message.process():
            seen.append(
                {
                    **json.loads(message.body),
                    "message_id": message.message_id,
                    "persistent": message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT,
                }
            )

    await queue.consume(collect)
    return seen


@contextlib.asynccontextmanager
async def running(task_coro):
    task = asyncio.create_task(task_coro)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_relay_publishes_committed_events_in_order_and_marks_them(
    pool, schema, settings, channel
):
    kind = f"test.{schema}"
    seen = await _listen(channel, kind)
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
        await wait_for(lambda: _count(seen, 5))
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
    seen = await _listen(channel, kind)
    text = "å" * 300_000  # 600 kB of UTF-8: several AMQP body frames at the default frame size
    async with pool.acquire() as conn, conn.transaction():
        await add_to_outbox(conn, schema=schema, type=kind, data={"text": text})
        await add_to_outbox(conn, schema=schema, type=kind, data={"text": "after it"})

    relay = OutboxRelay(pool, schema=schema, amqp_url=str(settings.amqp_url))
    async with running(relay.run()):
        await wait_for(lambda: _count(seen, 2))

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
    seen = await _listen(channel, accepted)
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
    await wait_for(lambda: _count(seen, 8))
    # at least once: 3 was published with the refused batch and again after it
    assert [e["data"]["n"] for e in seen] == [0, 1, 2, 3, 3, 5, 6, 7]


async def test_outbox_written_twice_with_one_event_id_publishes_once(pool, schema):
    event_id = uuid.uuid4()
    async with pool.acquire() as conn:
        for _ in range(2):
            await add_to_outbox(conn, schema=schema, type="x.y", data={}, event_id=event_id)
        assert await conn.fetchval(f"SELECT count(*) FROM {schema}.outbox") == 1


async def test_consumer_applies_a_redelivered_event_once(pool, schema):
    applied: list[uuid.UUID] = []

    async def handler(conn, event: Event) -> None:
        await conn.execute("SELECT 1")
        applied.append(event.id)

    consumer = EventConsumer(
        pool,
        schema=schema,
        amqp_url="amqp://unused",
        queue="unused",
        handlers={"thing.happened": handler},
    )
    event = Event(type="thing.happened", source="test", data={"x": 1})
    assert await consumer.apply(event) is True
    assert await consumer.apply(event) is False
    assert applied == [event.id]


async def test_failing_effect_leaves_no_inbox_row_so_the_retry_applies_it(pool, schema):
    attempts = {"n": 0}

    async def flaky(conn, event: Event) -> None:
        attempts["n"] += 1
        if attempts["n"] == 1:
            raise RuntimeError("database hiccup")

    consumer = EventConsumer(
        pool,
        schema=schema,
        amqp_url="amqp://unused",
        queue="unused",
        handlers={"thing.happened": flaky},
    )
    event = Event(type="thing.happened", source="test", data={})
    with pytest.raises(RuntimeError):
        await consumer.apply(event)
    assert await consumer.apply(event) is True
    assert attempts["n"] == 2


async def test_poison_message_is_dead_lettered_and_the_queue_keeps_flowing(
    pool, schema, settings, connection, channel
):
    queue_name = f"{settings.queue_prefix}{schema}.poison"
    good: list[dict] = []

    async def handler(conn, event: Event) -> None:
        if event.data.get("poison"):
            raise ValueError("cannot process this one")
        good.append(event.data)

    consumer = EventConsumer(
        pool,
        schema=schema,
        amqp_url=str(settings.amqp_url),
        queue=queue_name,
        handlers={f"test.{schema}": handler},
        expires=settings.queue_expires,
    )
    async with running(consumer.run()):
        exchange = await channel.declare_exchange(
            EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True
        )

        async def bound() -> bool:
            with contextlib.suppress(aio_pika.exceptions.ChannelClosed):
                probe = await (await connection.channel()).declare_queue(queue_name, passive=True)
                return probe.declaration_result.consumer_count > 0
            return False

        await wait_for(bound)
        for data in ({"poison": True}, {"n": 1}, {"n": 2}):
            event = Event(type=f"test.{schema}", source="test", data=data)
            await exchange.publish(
                aio_pika.Message(event.model_dump_json().encode(), message_id=str(event.id)),
                routing_key=event.type,
            )
        await wait_for(lambda: _count(good, 2))

        dead_channel = await connection.channel()
        dead = await dead_channel.declare_queue(f"{queue_name}.dead", passive=True)

        async def dead_lettered():
            message = await dead.get(fail=False)
            if message is not None:
                await message.ack()
            return message

        message = await wait_for(dead_lettered)
    assert json.loads(message.body)["data"] == {"poison": True}
    assert good == [{"n": 1}, {"n": 2}]


async def _count(items: list, n: int) -> bool:
    return len(items) >= n


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
    every_got = await _drain(channel, every.queue_name)
    narrow_got = await _drain(channel, narrow_name)
    assert sorted(n for n, _ in every_got) == [0, 1, 2, 3]
    assert narrow_got == [(2, qualified)]


async def _drain(channel, queue_name: str) -> list[tuple[int, str]]:
    """(n, routing key) of every message waiting in the queue, acknowledged."""
    queue = await channel.declare_queue(queue_name, passive=True)
    got = []
    while (message := await queue.get(fail=False)) is not None:
        event = Event.model_validate_json(message.body)
        got.append((event.data["n"], message.routing_key))
        await message.ack()
    return got
