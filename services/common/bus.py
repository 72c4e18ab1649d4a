"""The event bus: outbox written with the change, a relay with publisher confirms, an
idempotent inbox consumer, durable quorum queues with dead-lettering."""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import aio_pika
import aiormq
import aiormq.abc
import asyncpg
import pamqp.frame
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractIncomingMessage
from aiormq.abc import ChannelFrame
from pamqp.body import ContentBody
from pamqp.header import ContentHeader
from prometheus_client import Counter
from pydantic import BaseModel, Field, ValidationError

log = logging.getLogger(__name__)

EXCHANGE = "lifecare.events"
DEAD_LETTER_EXCHANGE = "lifecare.dlx"
NOTIFY_CHANNEL = "lifecare_outbox"
DELIVERY_LIMIT = 5
HOLD_AT_MOST = 10.0  # seconds between two tries of an event held through an outage

Data = TypeVar("Data", bound=BaseModel)

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


class Event(BaseModel):
    """The envelope of every event on the bus."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    source: str
    data: dict[str, Any]

    def data_as(self, model: builtins.type[Data]) -> Data:  # `type` is a field here
        """The data as `model`; a refusal names the wrong fields, never their values, which
        may be personal data and would end up in the log with the failure."""
        try:
            return model.model_validate(self.data)
        except ValidationError as exc:
            fields = ", ".join(".".join(map(str, e["loc"])) or "data" for e in exc.errors())
            raise ValueError(f"{self.type} {self.id}: invalid {fields}") from None


def bus_tables_sql(schema: str) -> str:
    """DDL of a service's outbox and inbox tables (used by its first migration)."""
    return f"""
    CREATE TABLE {schema}.outbox (
        seq          bigserial PRIMARY KEY,
        id           uuid NOT NULL UNIQUE,
        type         text NOT NULL,
        occurred_at  timestamptz NOT NULL DEFAULT now(),
        data         jsonb NOT NULL,
        published_at timestamptz
    );
    CREATE INDEX outbox_unpublished ON {schema}.outbox (seq) WHERE published_at IS NULL;
    CREATE FUNCTION {schema}.outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('{NOTIFY_CHANNEL}', '{schema}');
        RETURN NULL;
    END $$;
    CREATE TRIGGER outbox_notify AFTER INSERT ON {schema}.outbox
        FOR EACH STATEMENT EXECUTE FUNCTION {schema}.outbox_notify();
    CREATE TABLE {schema}.inbox (
        event_id    uuid PRIMARY KEY,
        type        text NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now()
    );
    """


async def add_to_outbox(
    conn: asyncpg.Connection,
    *,
    schema: str,
    type: str,
    data: dict[str, Any],
    event_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Write an event into the outbox; it is published once the transaction commits.

    A caller that retries passes a fixed `event_id`: the event is then written only once.
    """
    event_id = event_id or uuid.uuid4()
    await conn.execute(
        f"""INSERT INTO {schema}.outbox (id, type, data) VALUES ($1, $2, $3)
            ON CONFLICT (id) DO NOTHING""",
        event_id,
        type,
        data,
    )
    return event_id


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
) -> aio_pika.abc.AbstractQueue:
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


# The routing key each event is published under, as SQL over its outbox row: its type. A
# service may qualify some of its events with more words (`invoice.issued.final`), so that a
# consumer that acts only on those binds to them alone; every consumer of the type binds
# `<type>.#`, which matches them all.
BY_TYPE = "type"


async def keep_running(name: str, connected: Callable[[], Awaitable[None]]) -> None:
    """Run `connected` until cancelled; when the broker or database goes away, wait and retry."""
    while True:
        try:
            await connected()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("%s paused: %s", name, type(exc).__name__)
            await asyncio.sleep(1.0)


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
        """Relay until cancelled, reconnecting after a broker or database outage."""
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
                if await self.publish_pending(channel) < self.batch:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), timeout=1.0)
        finally:
            with contextlib.suppress(Exception):
                await listener.remove_listener(NOTIFY_CHANNEL, self._on_notify)
            await self.pool.release(listener)
            await connection.close()

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
                f"""SELECT id, type, occurred_at, {self.routing_key} AS routing_key,
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
            underlay = await channel.get_underlay_channel()
            if not isinstance(underlay, aiormq.Channel):  # what publish_confirmed relies on
                raise TypeError(f"the relay needs an aiormq channel, not {type(underlay)}")
            await publish_confirmed(underlay, rows)
            await conn.execute(
                f"UPDATE {self.schema}.outbox SET published_at = now() WHERE id = ANY($1)",
                [row["id"] for row in rows],
            )
        self.published += len(rows)
        PUBLISHED.labels(self.schema).inc(len(rows))
        return len(rows)


async def publish_confirmed(channel: aiormq.Channel, rows: Sequence[asyncpg.Record]) -> None:
    """Publish outbox rows (id, type, occurred_at, routing_key, body) as persistent messages
    to the events exchange in one write, and wait until the broker has confirmed every one.

    aiormq's `basic_publish` sends one message per call, each its own write to the socket
    and its own task to await; that was two thirds of the relay's CPU per event. Here the
    frames of the whole batch are marshalled together, under the channel's lock and on its
    own count of delivery tags, and each message gets a confirmation in the channel's own
    table, so acknowledgements, refusals and a closed channel reach us as they reach
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


Handler = Callable[[asyncpg.Connection, Event], Awaitable[None]]


class EventConsumer:
    """Consumes a queue; each event's effect and its inbox row commit in one transaction."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        schema: str,
        amqp_url: str,
        queue: str,
        handlers: dict[str, Handler],
        prefetch: int = 50,
        expires: timedelta | None = None,
        bindings: list[str] | None = None,
    ) -> None:
        self.pool = pool
        self.schema = schema
        self.amqp_url = amqp_url
        self.queue_name = queue
        self.handlers = handlers
        # every event of the handled types, qualified or not, unless the consumer says less
        self.bindings = bindings or [f"{type}.#" for type in sorted(handlers)]
        # queues declared before routing keys could be qualified were bound by exact type
        self.retired_bindings = sorted(handlers)
        self.prefetch = prefetch
        self.expires = expires
        self.dead_lettered = 0

    async def run(self) -> None:
        """Consume until cancelled, reconnecting after an outage."""
        await keep_running(f"consumer {self.queue_name}", self._run_connected)

    async def _run_connected(self) -> None:
        connection = await aio_pika.connect_robust(self.amqp_url)
        try:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=self.prefetch)
            queue = await self.declare(channel)
            async with queue.iterator() as messages:
                async for message in messages:
                    await self.handle(message)
        finally:
            await connection.close()

    async def declare(self, channel: AbstractChannel) -> aio_pika.abc.AbstractQueue:
        """The consumer's queue with its bindings (and its dead-letter queue)."""
        return await declare_queue(
            channel,
            self.queue_name,
            self.bindings,
            expires=self.expires,
            retired=self.retired_bindings,
        )

    async def handle(self, message: AbstractIncomingMessage) -> None:
        """Apply one message at most once; a failing one is retried, then dead-lettered."""
        try:
            event = Event.model_validate_json(message.body)
        except ValueError:
            log.error("consumer %s: unreadable message dead-lettered", self.queue_name)
            await self._dead_letter(message)
            return
        try:
            await self._apply_through_outages(event)
        except Exception:
            log.exception(
                "consumer %s: event %s (%s) failed", self.queue_name, event.id, event.type
            )
            # the broker counts returns; past the limit the message goes to `<queue>.dead`
            returned = (message.headers or {}).get("x-delivery-count")
            attempts = (returned if isinstance(returned, int) else 0) + 1
            if attempts > DELIVERY_LIMIT:
                log.error(
                    "consumer %s: event %s (%s) dead-lettered after %d attempts",
                    self.queue_name,
                    event.id,
                    event.type,
                    attempts,
                )
                await self._dead_letter(message)
                return
            RETRIED.labels(self.queue_name).inc()
            await message.nack(requeue=True)
            return
        await message.ack()
        CONSUMED.labels(self.queue_name).inc()

    async def _apply_through_outages(self, event: Event) -> None:
        """Apply the event; while a failure is an outage's, not the event's, hold the event
        and try again, without the nack that would count towards the dead letters."""
        pause = 1.0
        while True:
            try:
                await self.apply(event)
                return
            except Exception as exc:
                if not await self.outage(exc):
                    raise
                log.warning(
                    "consumer %s: event %s (%s) held through an outage (%s); next try in %.0f s",
                    self.queue_name,
                    event.id,
                    event.type,
                    type(exc).__name__,
                    pause,
                )
                HELD.labels(self.queue_name).inc()
            await asyncio.sleep(pause)
            pause = min(pause * 2, HOLD_AT_MOST)

    async def outage(self, exc: Exception) -> bool:
        """Whether a failure is an outage's rather than the event's: the database does not
        answer. A subclass whose effect goes elsewhere adds its own checks."""
        try:
            async with self.pool.acquire(timeout=5) as conn:
                await conn.fetchval("SELECT 1")
        except Exception:
            return True
        return False

    async def _dead_letter(self, message: AbstractIncomingMessage) -> None:
        self.dead_lettered += 1
        DEAD_LETTERED.labels(self.queue_name).inc()
        await message.reject(requeue=False)

    async def apply(self, event: Event) -> bool:
        """Record the event in the inbox and run its handler; False if it was seen before."""
        handler = self.handlers.get(event.type)
        async with self.pool.acquire() as conn, conn.transaction():
            fresh = await conn.fetchval(
                f"""INSERT INTO {self.schema}.inbox (event_id, type) VALUES ($1, $2)
                    ON CONFLICT DO NOTHING RETURNING true""",
                event.id,
                event.type,
            )
            if not fresh:
                return False
            if handler is not None:
                await handler(conn, event)
        return True


def event_json(event: Event) -> str:
    """The envelope as JSON text (for tests and tools)."""
    return json.dumps(event.model_dump(mode="json"))


async def declare_queues(amqp_url: str, consumers: list[EventConsumer]) -> None:
    """Declare the consumers' queues now, before they run: an event published from here on
    waits in its queue even if no consumer has started yet (tests and tools use it)."""
    connection = await aio_pika.connect_robust(amqp_url)
    async with connection:
        channel = await connection.channel()
        for consumer in consumers:
            await consumer.declare(channel)
