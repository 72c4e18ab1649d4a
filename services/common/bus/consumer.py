"""Consumers of a queue: the delivery, retry, outage and dead-letter loop they share, and its
two kinds: one that records each event in its inbox in the transaction of its effect, and one
whose effect is only outside the database (so it has neither pool nor inbox)."""

from __future__ import annotations

import abc
import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import timedelta

import aio_pika
import asyncpg
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from services.common.bus.envelope import Event
from services.common.bus.metrics import CONSUMED, DEAD_LETTERED, HELD, RETRIED
from services.common.bus.running import keep_running
from services.common.bus.topology import DELIVERY_LIMIT, declare_queue
from services.common.bus.trace_context import context_from

log = logging.getLogger("services.common.bus")  # the bus's one logger, in every module

tracer = trace.get_tracer(__name__)

HOLD_AT_MOST = 10.0  # seconds between two tries of an event held through an outage

Handler = Callable[[asyncpg.Connection, Event], Awaitable[None]]
"""An inbox consumer's effect of one event type, on the connection of its transaction."""
Effect = Callable[[Event], Awaitable[None]]
"""A side-effect consumer's effect of one event type, outside any transaction."""


class Consumer(abc.ABC):
    """Consumes a queue: each event is applied, held through an outage, retried when it
    fails, and dead-lettered past the delivery limit; `apply` is what a kind does with it."""

    def __init__(
        self,
        *,
        amqp_url: str,
        queue: str,
        types: Iterable[str],
        prefetch: int = 50,
        expires: timedelta | None = None,
        bindings: list[str] | None = None,
    ) -> None:
        self.amqp_url = amqp_url
        self.queue_name = queue
        types = sorted(types)
        # every event of the handled types, qualified or not, unless the consumer says less
        self.bindings = bindings or [f"{type}.#" for type in types]
        # queues declared before routing keys could be qualified were bound by exact type
        self.retired_bindings = types
        self.prefetch = prefetch
        self.expires = expires
        self.dead_lettered = 0

    @abc.abstractmethod
    async def apply(self, event: Event) -> bool:
        """Have the event's effect; False if it was seen before and had none now."""

    async def outage(self, exc: Exception) -> bool:
        """Whether a failure is an outage's (what the effect needs does not answer) rather
        than the event's; each kind, and a subclass whose effect goes elsewhere, says."""
        return False

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

    async def declare(self, channel: AbstractChannel) -> AbstractQueue:
        """The consumer's queue with its bindings (and its dead-letter queue)."""
        return await declare_queue(
            channel,
            self.queue_name,
            self.bindings,
            expires=self.expires,
            retired=self.retired_bindings,
        )

    async def handle(self, message: AbstractIncomingMessage) -> None:
        """Apply one message; a failing one is retried, then dead-lettered."""
        try:
            event = Event.model_validate_json(message.body)
        except ValueError:
            log.error("consumer %s: unreadable message dead-lettered", self.queue_name)
            await self._dead_letter(message)
            return
        # the trace of the request that wrote the event goes on here (the relay put its
        # context in the headers); an event without one begins a trace of its own
        with tracer.start_as_current_span(
            f"{event.type} process",
            context=context_from(message.headers),
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "rabbitmq",
                "messaging.operation.type": "process",
                "messaging.destination.name": self.queue_name,
                "messaging.message.id": str(event.id),
                "lifecare.event.type": event.type,
            },
            record_exception=False,  # its message may hold what the event said
        ) as span:
            await self._handle_traced(message, event, span)

    async def _handle_traced(
        self, message: AbstractIncomingMessage, event: Event, span: trace.Span
    ) -> None:
        try:
            await self._apply_through_outages(event)
        except Exception as exc:
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
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

    async def _dead_letter(self, message: AbstractIncomingMessage) -> None:
        self.dead_lettered += 1
        DEAD_LETTERED.labels(self.queue_name).inc()
        await message.reject(requeue=False)


class InboxConsumer(Consumer):
    """Consumes a queue; each event's effect and its inbox row commit in one transaction."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        schema: str,
        amqp_url: str,
        queue: str,
        handlers: Mapping[str, Handler],
        prefetch: int = 50,
        expires: timedelta | None = None,
        bindings: list[str] | None = None,
    ) -> None:
        super().__init__(
            amqp_url=amqp_url,
            queue=queue,
            types=handlers,
            prefetch=prefetch,
            expires=expires,
            bindings=bindings,
        )
        self.pool = pool
        self.schema = schema
        self.handlers = handlers

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

    async def outage(self, exc: Exception) -> bool:
        """Whether a failure is an outage's rather than the event's: the database does not
        answer. A subclass whose effect goes elsewhere adds its own checks."""
        try:
            async with self.pool.acquire(timeout=5) as conn:
                await conn.fetchval("SELECT 1")
        except Exception:
            return True
        return False


EventConsumer = InboxConsumer  # the name the services know it by


class SideEffectConsumer(Consumer):
    """Consumes a queue whose effects are outside the database: no pool, no inbox, so a
    redelivered event has its effect again, and the effect must be idempotent itself. A
    subclass says in `outage` when what its effects need is not answering."""

    def __init__(
        self,
        *,
        amqp_url: str,
        queue: str,
        handlers: Mapping[str, Effect],
        prefetch: int = 50,
        expires: timedelta | None = None,
        bindings: list[str] | None = None,
    ) -> None:
        super().__init__(
            amqp_url=amqp_url,
            queue=queue,
            types=handlers,
            prefetch=prefetch,
            expires=expires,
            bindings=bindings,
        )
        self.handlers = handlers

    async def apply(self, event: Event) -> bool:
        """Run the event's effect, outside any database transaction."""
        effect = self.handlers.get(event.type)
        if effect is not None:
            await effect(event)
        return True


async def declare_queues(amqp_url: str, consumers: Sequence[Consumer]) -> None:
    """Declare the consumers' queues now, before they run: an event published from here on
    waits in its queue even if no consumer has started yet (tests and tools use it)."""
    connection = await aio_pika.connect_robust(amqp_url)
    async with connection:
        channel = await connection.channel()
        for consumer in consumers:
            await consumer.declare(channel)
