"""The broker's side: the events exchange, the dead-letter exchange, durable quorum queues."""

from __future__ import annotations

from datetime import timedelta

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractQueue

EXCHANGE = "lifecare.events"
DEAD_LETTER_EXCHANGE = "lifecare.dlx"
DELIVERY_LIMIT = 5


async def declare_topology(channel: AbstractChannel) -> AbstractExchange:
    """Declare the events exchange and the dead-letter exchange; return the former."""
    await channel.declare_exchange(DEAD_LETTER_EXCHANGE, aio_pika.ExchangeType.DIRECT, durable=True)
    return await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)


async def declare_queue(
    channel: AbstractChannel,
    name: str,
    bindings: list[str],
    *,
    expires: timedelta | None = None,
    retired: list[str] | None = None,
) -> AbstractQueue:
    """A durable quorum queue bound to the events, with its dead-letter queue `<name>.dead`;
    the `retired` bindings an earlier version made are removed."""
    exchange = await declare_topology(channel)
    dlx = await channel.get_exchange(DEAD_LETTER_EXCHANGE)
    lifetime = {"x-expires": int(expires.total_seconds() * 1000)} if expires else {}
    dead = await channel.declare_queue(
        f"{name}.dead", durable=True, arguments={"x-queue-type": "quorum", **lifetime}
    )
    await dead.bind(dlx, routing_key=name)
    queue = await channel.declare_queue(
        name,
        durable=True,
        arguments={
            "x-queue-type": "quorum",
            "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
            "x-dead-letter-routing-key": name,
            "x-delivery-limit": DELIVERY_LIMIT,
            **lifetime,
        },
    )
    for key in bindings:
        await queue.bind(exchange, routing_key=key)
    for key in retired or []:
        if key not in bindings:
            await queue.unbind(exchange, routing_key=key)  # a no-op if it was never bound
    return queue
