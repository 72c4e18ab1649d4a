"""The outbox relay: a schema's committed events to the broker, in order, with confirms."""

from __future__ import annotations

import asyncio
import contextlib

import aio_pika
import asyncpg
from aio_pika.abc import AbstractChannel
from opentelemetry.instrumentation.utils import suppress_instrumentation

from services.common.bus.framing import publish_confirmed, underlay_of
from services.common.bus.metrics import PUBLISHED, RELAY_LAG
from services.common.bus.outbox import NOTIFY_CHANNEL
from services.common.bus.running import keep_running
from services.common.bus.topology import declare_topology

# The routing key each event is published under, as SQL over its outbox row: its type. A
# service may qualify some of its events with more words (`invoice.issued.final`), so that a
# consumer that acts only on those binds to them alone; every consumer of the type binds
# `<type>.#`, which matches them all.
BY_TYPE = "type"


class OutboxRelay:
    """Publishes a schema's outbox rows in order, in batches awaited together, then marks them."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        schema: str,
        amqp_url: str,
        batch: int = 200,
        routing_key: str = BY_TYPE,
    ) -> None:
        self.pool = pool
        self.schema = schema
        self.amqp_url = amqp_url
        self.batch = batch
        self.routing_key = routing_key
        self._wake = asyncio.Event()
        self.published = 0

    async def run(self) -> None:
        """Relay until cancelled, reconnecting after a broker or database outage. Its own
        queries make no spans (a trace a second of polling would bury the requests'): each
        event carries the trace of the request that wrote it instead."""
        with suppress_instrumentation():
            await keep_running(f"outbox relay for {self.schema}", self._run_connected)

    async def _run_connected(self) -> None:
        connection = await aio_pika.connect_robust(self.amqp_url)
        listener = await self.pool.acquire()
        try:
            await listener.add_listener(NOTIFY_CHANNEL, self._on_notify)
            channel = await connection.channel(publisher_confirms=True)
            await declare_topology(channel)
            while True:
                self._wake.clear()
                sent = await self.publish_pending(channel)
                await self.measure_lag()
                if sent < self.batch:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), timeout=1.0)
        finally:
            with contextlib.suppress(Exception):
                await listener.remove_listener(NOTIFY_CHANNEL, self._on_notify)
            await self.pool.release(listener)
            await connection.close()

    async def measure_lag(self) -> float:
        """How old the oldest unpublished event is (by the partial index), as a gauge."""
        async with self.pool.acquire() as conn:
            oldest = await conn.fetchval(
                f"""SELECT extract(epoch FROM now() - occurred_at) FROM {self.schema}.outbox
                    WHERE published_at IS NULL ORDER BY seq LIMIT 1"""
            )
        lag = max(0.0, float(oldest or 0))
        RELAY_LAG.labels(self.schema).set(lag)
        return lag

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        if payload == self.schema:
            self._wake.set()

    async def publish_pending(self, channel: AbstractChannel) -> int:
        """Publish one batch of unsent events; return how many were sent.

        The database writes each envelope (the JSON of an `Event`) and routing key, and the
        whole batch goes to the broker in one write (`publish_confirmed`): at the 100 000
        events of a billing run, the Python work per message is what the relay costs."""
        async with self.pool.acquire() as conn, conn.transaction():
            # the oldest unsent rows by the partial index, in order, and nothing else: a
            # planner that thinks the backlog small (no statistics yet, or from before a
            # billing run's 100 000 events) would otherwise read all of it, build every
            # envelope and sort them, for each batch (50 ms instead of 1 at 20 000 unsent)
            await conn.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off")
            rows = await conn.fetch(
                f"""SELECT id, type, occurred_at, trace_context,
                           {self.routing_key} AS routing_key,
                           json_build_object('id', id, 'type', type, 'occurred_at', occurred_at,
                                             'source', $2::text, 'data', data)::text AS body
                    FROM {self.schema}.outbox
                    WHERE published_at IS NULL ORDER BY seq LIMIT $1
                    FOR UPDATE SKIP LOCKED""",
                self.batch,
                self.schema,
            )
            if not rows:
                return 0
            await publish_confirmed(await underlay_of(channel), rows)
            await conn.execute(
                f"UPDATE {self.schema}.outbox SET published_at = now() WHERE id = ANY($1)",
                [row["id"] for row in rows],
            )
        self.published += len(rows)
        PUBLISHED.labels(self.schema).inc(len(rows))
        return len(rows)
