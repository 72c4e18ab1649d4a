"""What the relay's batched publish (services/common/bus/framing.py) relies on in aiormq,
against the real broker. A failure here means aiormq changed under the pin in pyproject
(`aiormq>=7.2.4,<8`): read framing.py's docstring before moving the pin."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import uuid
from collections.abc import MutableMapping
from datetime import UTC, datetime

import aio_pika
import aiormq
import pamqp.frame
import pytest
from aiormq.abc import ChannelFrame
from pamqp.body import ContentBody

from services.common.bus import EXCHANGE, declare_topology, publish_confirmed
from services.common.bus.framing import underlay_of

AIORMQ = importlib.metadata.version("aiormq")
WAIT = 10.0  # seconds; a confirmation the broker's ack does not resolve would wait forever


def changed(what: str) -> str:
    """The failure message: which aiormq, and what of it framing.py relies on."""
    return f"aiormq {AIORMQ} no longer behaves as services/common/bus/framing.py relies on: {what}"


@contextlib.asynccontextmanager
async def within(what: str):
    try:
        async with asyncio.timeout(WAIT):
            yield
    except TimeoutError:
        pytest.fail(changed(f"{what} (nothing within {WAIT:.0f} s)"))


@pytest.fixture
async def underlay(connection) -> aiormq.Channel:
    """The aiormq channel under an aio-pika one with publisher confirms, as the relay's."""
    channel = await connection.channel(publisher_confirms=True)
    await declare_topology(channel)
    try:
        return await underlay_of(channel)
    except TypeError as exc:
        pytest.fail(changed(str(exc)))


@pytest.fixture
async def bound(channel) -> tuple[str, aio_pika.abc.AbstractQueue]:
    """A routing key of this test and an exclusive queue bound to it."""
    key = f"test.aiormq.{uuid.uuid4().hex[:8]}"
    exchange = await channel.get_exchange(EXCHANGE)
    queue = await channel.declare_queue(exclusive=True)
    await queue.bind(exchange, routing_key=key)
    return key, queue


def rows(key: str, bodies: list[str]) -> list[dict]:
    """Outbox rows as the relay selects them."""
    return [
        {
            "id": uuid.uuid4(),
            "type": "test.aiormq",
            "occurred_at": datetime.now(UTC).replace(microsecond=0),
            "routing_key": key,
            "body": body,
        }
        for body in bodies
    ]


async def test_the_channel_has_the_internals_the_batch_is_written_on(underlay):
    assert isinstance(underlay.confirmations, MutableMapping), changed(
        "Channel.confirmations is not a table of delivery tags"
    )
    assert isinstance(underlay.delivery_tag, int), changed("Channel.delivery_tag is not a count")
    assert isinstance(underlay.number, int), changed("Channel.number is not the channel's number")
    assert isinstance(underlay.write_queue, asyncio.Queue), changed(
        "Channel.write_queue is not a queue of frames to write"
    )
    assert isinstance(underlay.create_future(), asyncio.Future), changed(
        "Channel.create_future() makes no future"
    )
    lock = underlay.lock
    assert hasattr(lock, "__aenter__") and hasattr(lock, "__aexit__"), changed(
        "Channel.lock is not an async context manager"
    )
    frame = ChannelFrame(payload=b"", should_close=False)
    assert (frame.payload, frame.should_close) == (b"", False), changed(
        "ChannelFrame(payload=, should_close=) is not a write of those bytes"
    )
    size = underlay.max_content_size
    frame_max = underlay.connection.connection_tune.frame_max
    biggest = pamqp.frame.marshal(ContentBody(b"x" * size), underlay.number)
    assert 0 < size and len(biggest) <= frame_max, changed(
        f"a body frame of Channel.max_content_size ({size}) bytes does not fit the frame size"
        f" the broker agreed ({frame_max})"
    )


async def test_a_batch_in_one_write_is_acked_message_by_message_in_order_and_whole(underlay, bound):
    key, queue = bound
    big = "å" * (underlay.max_content_size)  # twice the content size in UTF-8: three frames
    batch = rows(key, ['{"n": 0}', f'{{"n": 1, "big": "{big}"}}', '{"n": 2}'])
    before = underlay.delivery_tag

    async with within("the broker's acks did not resolve the batch's confirmations"):
        await publish_confirmed(underlay, batch)

    assert underlay.delivery_tag == before + 3, changed("Channel.delivery_tag was not kept")
    assert not any(tag > before for tag in underlay.confirmations), changed(
        "an acked delivery tag stayed in Channel.confirmations"
    )
    got = []
    async with within("the batch's messages did not all arrive"):
        while len(got) < 3:
            if (message := await queue.get(fail=False)) is None:
                await asyncio.sleep(0.05)
                continue
            await message.ack()
            got.append(message)
    assert [m.body.decode() for m in got] == [row["body"] for row in batch]
    assert [m.message_id for m in got] == [str(row["id"]) for row in batch]
    assert all(
        m.type == "test.aiormq"
        and m.content_type == "application/json"
        and m.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
        and m.timestamp == batch[0]["occurred_at"]
        for m in got
    )


async def test_basic_publish_counts_on_the_same_tags_before_and_after_a_batch(underlay, bound):
    key, _ = bound
    before = underlay.delivery_tag
    async with within("basic_publish after a batch was not confirmed: the tags are out of step"):
        first = await underlay.basic_publish(b"{}", exchange=EXCHANGE, routing_key=key)
        await publish_confirmed(underlay, rows(key, ["{}", "{}"]))
        last = await underlay.basic_publish(b"{}", exchange=EXCHANGE, routing_key=key)
    assert isinstance(first, aiormq.spec.Basic.Ack) and isinstance(last, aiormq.spec.Basic.Ack)
    assert underlay.delivery_tag == before + 4, changed(
        "basic_publish no longer counts its publishes in Channel.delivery_tag"
    )


async def test_a_refused_message_fails_the_batch_with_a_delivery_error(channel, underlay):
    key = f"test.aiormq.full.{uuid.uuid4().hex[:8]}"
    full = await channel.declare_queue(
        exclusive=True, arguments={"x-max-length": 0, "x-overflow": "reject-publish"}
    )
    await full.bind(await channel.get_exchange(EXCHANGE), routing_key=key)
    async with within("the broker's nack did not resolve the batch's confirmation"):
        with pytest.raises(aiormq.exceptions.DeliveryError):
            await publish_confirmed(underlay, rows(key, ["{}", "{}"]))
        # in step still: a publish after the refused batch is confirmed
        assert isinstance(
            await underlay.basic_publish(b"{}", exchange=EXCHANGE, routing_key="test.nobody"),
            aiormq.spec.Basic.Ack,
        )


async def test_the_lock_holds_basic_publish_back_while_a_batch_takes_its_tags(underlay, bound):
    key, _ = bound
    before = underlay.delivery_tag
    async with underlay.lock:
        waiting = asyncio.create_task(
            underlay.basic_publish(b"{}", exchange=EXCHANGE, routing_key=key)
        )
        await asyncio.sleep(0.2)
        assert not waiting.done() and underlay.delivery_tag == before, changed(
            "basic_publish does not wait for Channel.lock"
        )
    async with within("basic_publish after the lock was released was not confirmed"):
        assert isinstance(await waiting, aiormq.spec.Basic.Ack)


async def test_a_confirmation_still_waiting_fails_when_the_broker_closes_the_channel(underlay):
    confirmation = underlay.create_future()
    with pytest.raises(aiormq.exceptions.ChannelNotFoundEntity):
        await underlay.exchange_declare(exchange=f"absent-{uuid.uuid4().hex}", passive=True)
    async with within("a future of Channel.create_future() outlived its closed channel"):
        with pytest.raises(Exception):  # noqa: B017 (whichever the close gives)
            await confirmation
    with pytest.raises(aiormq.exceptions.ChannelInvalidStateError):
        async with underlay.lock:
            pass
