"""The consumers' delivery loop (services/common/bus/consumer.py), without a broker or
database: acknowledged, retried, held through an outage, dead-lettered; the two kinds."""

from __future__ import annotations

import types
import uuid

import pytest
from prometheus_client import REGISTRY

from services.common.bus import (
    DELIVERY_LIMIT,
    Consumer,
    Event,
    EventConsumer,
    InboxConsumer,
    SideEffectConsumer,
)
from services.common.bus import consumer as consumer_module


class Message:
    """An incoming message as a consumer sees it, recording what became of it."""

    def __init__(self, body: bytes, *, returned: int | None = None) -> None:
        self.body = body
        self.headers = {} if returned is None else {"x-delivery-count": returned}
        self.outcome: str | None = None

    async def ack(self) -> None:
        self.outcome = "acked"

    async def nack(self, requeue: bool) -> None:
        self.outcome = "returned" if requeue else "dropped"

    async def reject(self, requeue: bool) -> None:
        self.outcome = "returned" if requeue else "dead-lettered"


def message(type: str, data: dict | None = None, **kwargs) -> Message:
    event = Event(type=type, source="test", data=data or {})
    return Message(event.model_dump_json().encode(), **kwargs)


def counted(name: str, queue: str) -> float:
    return REGISTRY.get_sample_value(f"lifecare_events_{name}_total", {"queue": queue}) or 0.0


def side_effects(*effects, queue: str | None = None, **kwargs) -> SideEffectConsumer:
    return SideEffectConsumer(
        amqp_url="amqp://unused",
        queue=queue or f"unit.{uuid.uuid4().hex[:8]}",
        handlers=dict(effects),
        **kwargs,
    )


async def test_a_side_effect_consumer_runs_the_effect_of_the_event_s_type_and_acks():
    seen: list[Event] = []

    async def tell(event: Event) -> None:
        seen.append(event)

    consumer = side_effects(("thing.happened", tell))
    delivered = message("thing.happened", {"n": 1})
    await consumer.handle(delivered)

    assert delivered.outcome == "acked"
    assert [e.data for e in seen] == [{"n": 1}]
    assert counted("consumed", consumer.queue_name) == 1
    assert not hasattr(consumer, "pool") and not hasattr(consumer, "schema")


async def test_an_event_of_a_type_without_an_effect_is_acknowledged():
    async def never(event: Event) -> None:
        raise AssertionError("not this type")

    consumer = side_effects(("thing.happened", never))
    delivered = message("other.thing")
    await consumer.handle(delivered)
    assert delivered.outcome == "acked"


async def test_a_failing_effect_goes_back_until_the_limit_then_to_the_dead_letters():
    async def fails(event: Event) -> None:
        raise ValueError("cannot process this one")

    consumer = side_effects(("thing.happened", fails))
    first, last = message("thing.happened"), message("thing.happened", returned=DELIVERY_LIMIT)
    await consumer.handle(first)
    await consumer.handle(last)

    assert (first.outcome, last.outcome) == ("returned", "dead-lettered")
    assert counted("retried", consumer.queue_name) == 1
    assert counted("dead_lettered", consumer.queue_name) == 1
    assert consumer.dead_lettered == 1


async def test_an_unreadable_message_is_dead_lettered_at_once():
    consumer = side_effects()
    delivered = Message(b"not an event")
    await consumer.handle(delivered)
    assert delivered.outcome == "dead-lettered" and consumer.dead_lettered == 1


async def test_an_event_is_held_through_an_outage_and_applied_after_it(monkeypatch):
    pauses: list[float] = []

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)

    monkeypatch.setattr(consumer_module, "asyncio", types.SimpleNamespace(sleep=sleep))
    tries = {"n": 0}

    async def needs_a_service(event: Event) -> None:
        tries["n"] += 1
        if tries["n"] <= 3:
            raise ConnectionError("the service does not answer")

    class Bridge(SideEffectConsumer):
        async def outage(self, exc: Exception) -> bool:
            return isinstance(exc, ConnectionError)

    consumer = Bridge(
        amqp_url="amqp://unused",
        queue=f"unit.{uuid.uuid4().hex[:8]}",
        handlers={"thing.happened": needs_a_service},
    )
    delivered = message("thing.happened")
    await consumer.handle(delivered)

    assert delivered.outcome == "acked" and tries["n"] == 4
    assert pauses == [1.0, 2.0, 4.0]
    assert counted("held", consumer.queue_name) == 3
    assert counted("retried", consumer.queue_name) == 0


async def test_a_side_effect_consumer_sees_no_outage_of_its_own():
    assert await side_effects().outage(ConnectionError()) is False


@pytest.mark.parametrize("kind", ["inbox", "side effect"])
def test_a_consumer_binds_every_routing_key_of_its_types_unless_told_less(kind):
    def make(**kwargs) -> Consumer:
        handlers = {"b.done": None, "a.done": None}
        if kind == "inbox":
            return InboxConsumer(
                None, schema="s", amqp_url="amqp://unused", queue="q", handlers=handlers, **kwargs
            )
        return SideEffectConsumer(amqp_url="amqp://unused", queue="q", handlers=handlers, **kwargs)

    every, narrow = make(), make(bindings=["b.done.final"])
    assert every.bindings == ["a.done.#", "b.done.#"]
    assert narrow.bindings == ["b.done.final"]
    # the exact types an earlier version bound go, unless bound still
    assert every.retired_bindings == narrow.retired_bindings == ["a.done", "b.done"]


def test_the_services_inbox_consumer_keeps_its_name():
    assert EventConsumer is InboxConsumer
