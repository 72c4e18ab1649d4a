"""Publishing a batch of outbox rows in one write, on aiormq's channel internals.

aiormq's `basic_publish` sends one message per call, each its own write to the socket and
its own task to await; that was two thirds of the relay's CPU per event. `publish_confirmed`
does what `basic_publish` does for a whole batch at once, and so relies on these internals
of `aiormq.Channel` (pinned in pyproject: `aiormq>=7.2.4,<8`; checked against the broker by
tests/integration/common/bus/test_aiormq.py, which names the version when they change):

- `lock` serialises publishing on the channel, `delivery_tag` counts its publishes, and
  `confirmations` maps a delivery tag to the future the broker's ack or nack resolves
  (a nack fails it with `DeliveryError`), for each tag of a batch written in one frame;
- futures from `create_future` fail when the channel closes;
- `write_queue` takes a `ChannelFrame` of frames marshalled for `number`, whose bodies are
  at most `max_content_size` bytes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import aio_pika
import aiormq
import asyncpg
import pamqp.frame
from aio_pika.abc import AbstractChannel
from aiormq.abc import ChannelFrame
from pamqp.body import ContentBody
from pamqp.header import ContentHeader

from services.common.bus.topology import EXCHANGE


async def underlay_of(channel: AbstractChannel) -> aiormq.Channel:
    """The aiormq channel under an aio-pika one, which `publish_confirmed` writes on."""
    underlay = await channel.get_underlay_channel()
    if not isinstance(underlay, aiormq.Channel):
        raise TypeError(f"the relay needs an aiormq channel, not {type(underlay)}")
    return underlay


async def publish_confirmed(channel: aiormq.Channel, rows: Sequence[asyncpg.Record]) -> None:
    """Publish outbox rows (id, type, occurred_at, routing_key, body, and trace_context if
    any: it becomes the message's headers) as persistent messages to the events exchange
    in one write, and wait until the broker has confirmed every one.

    The frames of the whole batch are marshalled together, under the channel's lock and on
    its own count of delivery tags, and each message gets a confirmation in the channel's
    own table, so acknowledgements, refusals and a closed channel reach us as they reach
    `basic_publish`. No `mandatory` flag: an event no queue is bound to is dropped by the
    broker, as publish-subscribe means (it stays in the outbox)."""
    messages: list[bytes] = []
    method_frames: dict[str, bytes] = {}  # the same for every message with that routing key
    for row in rows:
        key = row["routing_key"]
        if key not in method_frames:
            method_frames[key] = pamqp.frame.marshal(
                aiormq.spec.Basic.Publish(exchange=EXCHANGE, routing_key=key), channel.number
            )
        body = row["body"].encode()
        header = ContentHeader(
            body_size=len(body),
            properties=aiormq.spec.Basic.Properties(
                content_type="application/json",
                delivery_mode=int(aio_pika.DeliveryMode.PERSISTENT),
                message_id=str(row["id"]),
                message_type=row["type"],
                timestamp=row["occurred_at"],
                # the W3C trace context of the span that wrote the event, for its consumers
                headers=row.get("trace_context") or None,
            ),
        )
        frames = [method_frames[key], pamqp.frame.marshal(header, channel.number)]
        for start in range(0, len(body), channel.max_content_size):
            chunk = ContentBody(body[start : start + channel.max_content_size])
            frames.append(pamqp.frame.marshal(chunk, channel.number))
        messages.append(b"".join(frames))
    confirmations = [channel.create_future() for _ in messages]
    async with channel.lock:
        first = channel.delivery_tag + 1
        for tag, confirmation in enumerate(confirmations, start=first):
            channel.confirmations[tag] = confirmation
        channel.delivery_tag += len(messages)
        try:
            await channel.write_queue.put(
                ChannelFrame(payload=b"".join(messages), should_close=False)
            )
        except BaseException:  # not sent: the broker never counted these tags
            channel.delivery_tag -= len(messages)
            for tag in range(first, first + len(messages)):
                channel.confirmations.pop(tag, None)
            for confirmation in confirmations:
                confirmation.cancel()
            raise
    for frame in await asyncio.gather(*confirmations):
        if not isinstance(frame, aiormq.spec.Basic.Ack):
            raise aiormq.exceptions.DeliveryError(None, frame)
