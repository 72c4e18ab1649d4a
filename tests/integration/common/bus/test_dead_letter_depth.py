"""The dead-letter depth a service's /metrics reports is the broker's count of what waits in
each consumer's `<queue>.dead`; a queue not declared yet is left out, the others still read."""

from __future__ import annotations

import uuid

import aio_pika
from prometheus_client import REGISTRY

from services.common.bus import declare_queue
from services.common.bus.metrics import measure_dead_letters
from tests.integration.conftest import wait_for


def _depth(queue: str) -> float | None:
    return REGISTRY.get_sample_value("lifecare_dead_letter_messages", {"queue": queue})


async def test_depth_counts_what_waits_and_skips_a_queue_not_declared(settings, channel):
    queue = f"it-depth-{uuid.uuid4().hex[:8]}"
    missing = f"it-missing-{uuid.uuid4().hex[:8]}"
    await declare_queue(channel, queue, ["nothing.routed.here"])
    for n in range(3):
        await channel.default_exchange.publish(
            aio_pika.Message(f"poison {n}".encode()), routing_key=f"{queue}.dead"
        )
    try:

        async def three_waiting() -> bool:
            await measure_dead_letters(str(settings.amqp_url), [missing, queue])
            return _depth(queue) == 3

        await wait_for(three_waiting)
        assert _depth(missing) is None
    finally:
        await channel.queue_delete(queue)
        await channel.queue_delete(f"{queue}.dead")
