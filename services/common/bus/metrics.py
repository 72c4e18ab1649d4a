"""The bus's Prometheus counters, served on each service's `/metrics`."""

from __future__ import annotations

from collections.abc import Iterable

import aio_pika
import aiormq
from prometheus_client import Counter, Gauge

PUBLISHED = Counter(
    "lifecare_events_published", "Events the outbox relay published, by schema", ["schema"]
)
CONSUMED = Counter("lifecare_events_consumed", "Events a consumer acknowledged", ["queue"])
RETRIED = Counter(
    "lifecare_events_retried", "Deliveries that failed and went back for another try", ["queue"]
)
HELD = Counter(
    "lifecare_events_held",
    "Tries of an event held through an outage (its store not answering), not counted as failures",
    ["queue"],
)
DEAD_LETTERED = Counter(
    "lifecare_events_dead_lettered",
    "Events a consumer gave up on, now in its dead-letter queue `<queue>.dead`",
    ["queue"],
)
RELAY_LAG = Gauge(
    "lifecare_outbox_lag_seconds",
    "Age of the oldest event in a schema's outbox that is not published yet (0: none)",
    ["schema"],
)
DEAD_LETTER_DEPTH = Gauge(
    "lifecare_dead_letter_messages",
    "Events waiting in a consumer's dead-letter queue `<queue>.dead`, read from RabbitMQ",
    ["queue"],
)


async def measure_dead_letters(amqp_url: str, queues: Iterable[str]) -> None:
    """How many events wait in each consumer queue's `<queue>.dead`, as DEAD_LETTER_DEPTH:
    a passive declare on one short connection per scrape, so nothing is created; a queue
    not declared yet is left out (the broker closes the channel that asked)."""
    queues = list(queues)
    if not queues:
        return
    connection = await aio_pika.connect(amqp_url, timeout=3)
    async with connection:
        for queue in queues:
            channel = await connection.channel()
            try:
                declared = await channel.declare_queue(f"{queue}.dead", passive=True)
            except aiormq.exceptions.ChannelNotFoundEntity:
                continue
            DEAD_LETTER_DEPTH.labels(queue).set(declared.declaration_result.message_count or 0)
            await channel.close()
