"""The relay's batched publish (services/common/bus/framing.py) on a stand-in channel: the
bytes it writes are aiormq's own frames, its tags follow the channel's, a failed write
gives them back. (The real aiormq and broker: tests/integration/common/bus/test_aiormq.py.)"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import UTC, datetime

import aiormq
import pytest
from aiormq.abc import ChannelFrame
from pamqp.body import ContentBody
from pamqp.header import ContentHeader

from services.common.bus import EXCHANGE, publish_confirmed


class Channel:
    """What publish_confirmed uses of an aiormq channel, and nothing else."""

    number = 3
    max_content_size = 10

    def __init__(self, write_queue: asyncio.Queue | None = None) -> None:
        self.delivery_tag = 7  # seven published before
        self.confirmations: dict[int, asyncio.Future] = {}
        self.write_queue = write_queue or asyncio.Queue()
        self._lock = asyncio.Lock()

    @property
    @contextlib.asynccontextmanager
    async def lock(self):
        async with self._lock:
            yield

    def create_future(self) -> asyncio.Future:
        return asyncio.get_running_loop().create_future()


def row(routing_key: str, body: str) -> dict:
    return {
        "id": uuid.uuid4(),
        "type": "invoice.issued",
        "occurred_at": datetime(2026, 12, 2, 9, 30, tzinfo=UTC),
        "routing_key": routing_key,
        "body": body,
    }


def as_aiormq_frames_it(channel: Channel, r: dict) -> bytes:
    """The message as aiormq's basic_publish marshals it (persistent, with its properties)."""
    body = r["body"].encode()
    frames = [
        aiormq.spec.Basic.Publish(exchange=EXCHANGE, routing_key=r["routing_key"]),
        ContentHeader(
            body_size=len(body),
            properties=aiormq.spec.Basic.Properties(
                content_type="application/json",
                delivery_mode=2,
                message_id=str(r["id"]),
                message_type=r["type"],
                timestamp=r["occurred_at"],
                headers=r.get("trace_context"),
            ),
        ),
        *(
            ContentBody(body[i : i + channel.max_content_size])
            for i in range(0, len(body), channel.max_content_size)
        ),
    ]
    return ChannelFrame.marshall(channel_number=channel.number, frames=frames).payload


async def _acked_as_written(channel: Channel, rows: list[dict]) -> ChannelFrame:
    publishing = asyncio.create_task(publish_confirmed(channel, rows))  # type: ignore[arg-type]
    written = await channel.write_queue.get()
    for confirmation in channel.confirmations.values():
        confirmation.set_result(aiormq.spec.Basic.Ack())
    await publishing
    return written


async def test_a_batch_is_one_write_of_the_frames_aiormq_would_write_on_the_next_tags():
    channel = Channel()
    rows = [row("invoice.issued", '{"n": 0}'), row("invoice.issued.final", '{"n": 1, "å": 2}')]
    publishing = asyncio.create_task(publish_confirmed(channel, rows))  # type: ignore[arg-type]
    written = await channel.write_queue.get()

    assert written.payload == b"".join(as_aiormq_frames_it(channel, r) for r in rows)
    assert not written.should_close
    assert sorted(channel.confirmations) == [8, 9] and channel.delivery_tag == 9
    for confirmation in channel.confirmations.values():
        confirmation.set_result(aiormq.spec.Basic.Ack())
    await publishing


async def test_a_nack_of_one_message_fails_the_batch():
    channel = Channel()
    publishing = asyncio.create_task(
        publish_confirmed(channel, [row("a", "{}"), row("b", "{}")])  # type: ignore[arg-type]
    )
    await channel.write_queue.get()
    channel.confirmations[8].set_result(aiormq.spec.Basic.Ack())
    channel.confirmations[9].set_result(aiormq.spec.Basic.Nack(delivery_tag=9))
    with pytest.raises(aiormq.exceptions.DeliveryError):
        await publishing


async def test_a_write_that_never_happened_gives_its_tags_back():
    channel = Channel(write_queue=asyncio.Queue(maxsize=1))
    channel.write_queue.put_nowait(ChannelFrame(payload=b"", should_close=False))  # full
    publishing = asyncio.create_task(publish_confirmed(channel, [row("a", "{}")]))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    assert channel.delivery_tag == 8
    publishing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await publishing
    assert channel.delivery_tag == 7 and channel.confirmations == {}


async def test_an_empty_body_is_a_header_with_no_body_frame():
    channel = Channel()
    r = row("a", "")
    written = await _acked_as_written(channel, [r])
    assert written.payload == as_aiormq_frames_it(channel, r)


async def test_a_rows_trace_context_is_its_messages_headers_and_none_gives_none():
    channel = Channel()
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    traced = {**row("a", "{}"), "trace_context": {"traceparent": parent}}
    untraced = {**row("b", "{}"), "trace_context": None}  # a row from before the column
    written = await _acked_as_written(channel, [traced, untraced])
    assert written.payload == b"".join(as_aiormq_frames_it(channel, r) for r in (traced, untraced))
    assert parent.encode() in written.payload
    assert written.payload.count(b"traceparent") == 1
