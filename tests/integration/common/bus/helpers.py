"""Helpers of the bus's tests: what a bound queue sees, a task run for a block."""

from __future__ import annotations

import asyncio
import contextlib
import json

import aio_pika

from services.common.bus import EXCHANGE, Event


async def listen(channel, routing_key: str) -> list[dict]:
    """Every event published under `routing_key` from now on, with its message's properties."""
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


async def count(items: list, n: int) -> bool:
    return len(items) >= n


async def drain(channel, queue_name: str) -> list[tuple[int, str]]:
    """(n, routing key) of every message waiting in the queue, acknowledged."""
    queue = await channel.declare_queue(queue_name, passive=True)
    got = []
    while (message := await queue.get(fail=False)) is not None:
        event = Event.model_validate_json(message.body)
        got.append((event.data["n"], message.routing_key))
        await message.ack()
    return got
