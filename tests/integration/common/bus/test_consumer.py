"""The consumers against the real RabbitMQ and PostgreSQL: an inbox consumer applies an event
once, a poison message is dead-lettered, a side-effect consumer needs no database."""

from __future__ import annotations

import contextlib
import json
import uuid

import aio_pika
import pytest

from services.common.bus import EXCHANGE, Event, EventConsumer, SideEffectConsumer
from tests.integration.common.bus.helpers import count, running
from tests.integration.conftest import wait_for


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


async def _wait_until_consuming(connection, queue_name: str) -> None:
    async def consuming() -> bool:
        with contextlib.suppress(aio_pika.exceptions.ChannelClosed):
            probe = await (await connection.channel()).declare_queue(queue_name, passive=True)
            return probe.declaration_result.consumer_count > 0
        return False

    await wait_for(consuming)


async def _publish(channel, events: list[Event]) -> None:
    exchange = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
    for event in events:
        await exchange.publish(
            aio_pika.Message(event.model_dump_json().encode(), message_id=str(event.id)),
            routing_key=event.type,
        )


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
        await _wait_until_consuming(connection, queue_name)
        await _publish(
            channel,
            [
                Event(type=f"test.{schema}", source="test", data=data)
                for data in ({"poison": True}, {"n": 1}, {"n": 2})
            ],
        )
        await wait_for(lambda: count(good, 2))

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


async def test_a_side_effect_consumer_has_its_effects_with_no_database(
    settings, connection, channel
):
    kind = f"test.side-{uuid.uuid4().hex[:8]}"
    queue_name = f"{settings.queue_prefix}{kind}"
    told: list[int] = []

    async def tell(event: Event) -> None:
        told.append(event.data["n"])

    consumer = SideEffectConsumer(
        amqp_url=str(settings.amqp_url),
        queue=queue_name,
        handlers={kind: tell},
        expires=settings.queue_expires,
    )
    async with running(consumer.run()):
        await _wait_until_consuming(connection, queue_name)
        await _publish(channel, [Event(type=kind, source="test", data={"n": n}) for n in range(3)])
        await wait_for(lambda: count(told, 3))

    assert told == [0, 1, 2]
    assert consumer.dead_lettered == 0
