"""A three-node RabbitMQ cluster loses a node (kill -9) under a stream of API writes: the
quorum queues elect new leaders on the two nodes left, no write fails, every event is
delivered and none has a second effect.

The three nodes are private to this test (own names, ports and data folders), started on
this machine and clustered; the machine's shared broker is untouched. The services connect
to the first node, and the node killed is another: the one that leads most of the test's
queues (leaders are spread over the nodes, `queue_leader_locator = balanced`; should both
lead on the first, a node that only holds replicas is killed, and the quorum holds too)."""

from __future__ import annotations

import asyncio
import time

import pytest

from services.billing.main import build as build_billing
from services.orders.main import build as build_orders
from tests.integration.conftest import wait_for
from tests.integration.helpers import new_unit
from tests.resilience.conftest import (
    Writes,
    client_of,
    declare_consumer_queues,
    deliveries,
    everything_queue,
)
from tests.resilience.stack import PrivateRabbitMQ, rabbitmq_available

BEFORE = 4.0  # seconds of writes before the kill
AFTER = 12.0  # and after it
EVERY = 0.1  # seconds between two writes


@pytest.mark.skipif(not rabbitmq_available(), reason="rabbitmq-server is not installed")
async def test_a_node_of_three_killed_under_load_loses_no_event(settings, as_):
    nodes = [PrivateRabbitMQ(config="queue_leader_locator = balanced\n") for _ in range(3)]
    first, *others = nodes
    try:
        started = await asyncio.gather(*(node.start() for node in nodes))
        for node in others:
            await node.join(first)
        private = settings.model_copy(update={"amqp_url": first.url})
        orders_app, billing_app = build_orders(private), build_billing(private)
        async with (
            orders_app.router.lifespan_context(orders_app),
            billing_app.router.lifespan_context(billing_app),
            client_of(orders_app, "orders") as http,
        ):
            await declare_consumer_queues(billing_app, first.url)
            everything = f"{private.queue_prefix}test.cluster.everything"
            await everything_queue(first.url, everything)
            ours = {
                name: leader
                for name, leader in (await asyncio.to_thread(first.leaders)).items()
                if name.startswith(private.queue_prefix) and not name.endswith(".dead")
            }
            victim = max(others, key=lambda node: list(ours.values()).count(node.node))
            led = sorted(name for name, leader in ours.items() if leader == victim.node)
            unit = await new_unit(http, as_("admin"))
            # this test's own events: the session's database holds other tests' too
            since = await orders_app.state.pool.fetchval("SELECT now()")
            pool = orders_app.state.pool
            stream = Writes(http, as_, unit, EVERY)

            stream.start()
            await asyncio.sleep(BEFORE)
            victim.kill()
            killed_at, before_kill = time.monotonic(), stream.writes["ok"]
            await asyncio.sleep(AFTER)
            await stream.stop()
            written_after = stream.writes["ok"] - before_kill
            moved = {
                name: leader
                for name, leader in (await asyncio.to_thread(first.leaders)).items()
                if name in led
            }

            async def all_published() -> bool:
                return not await pool.fetchval(
                    "SELECT count(*) FROM orders.outbox WHERE published_at IS NULL"
                )

            await wait_for(all_published, timeout=60)
            ids = [c["id"] for c in stream.customers]

            async def billing_knows_all() -> bool:
                count = await pool.fetchval(
                    "SELECT count(*) FROM billing.customers WHERE id = ANY($1::uuid[])", ids
                )
                return count == len(ids)

            await wait_for(billing_knows_all, timeout=60)
            settled = time.monotonic() - killed_at
            outbox = {
                str(r["id"])
                for r in await pool.fetch(
                    "SELECT id FROM orders.outbox WHERE occurred_at >= $1", since
                )
            }
            delivered = await deliveries(first.url, everything, expected=outbox)
            learnt = await pool.fetchval(
                "SELECT count(*) FROM billing.inbox WHERE type = 'customer.created' "
                "AND event_id = ANY($1::uuid[])",
                list(outbox),
            )
    finally:
        for node in nodes:
            node.remove()

    failures = stream.failures()
    assert failures == {}, failures
    assert victim.node not in moved.values(), moved  # each queue it led has a new leader
    assert written_after > 0
    assert outbox - set(delivered) == set(), "events never delivered"
    assert learnt == len(ids)  # each customer learnt once
    short = [name.removeprefix(private.queue_prefix) for name in led]
    print(
        f"\nrabbitmq cluster: 3 nodes up in {max(started):.1f} s; killed the leader of "
        f"{len(led)} of {len(ours)} queues ({', '.join(short)}) "
        f"after {before_kill} writes; {written_after} writes after, 0 failed; every queue it "
        f"led moved to a node left; {len(outbox)} events delivered {sum(delivered.values())} "
        f"times ({sum(1 for n in delivered.values() if n > 1)} more than once), {learnt} "
        f"customers learnt once each, {settled:.1f} s from the kill to all applied"
    )
