"""The outbox relay alone: how much CPU it spends per event, and how many events a second it
publishes, for a billing run's kind of events.

    .venv/bin/python -m bench.billing.relay [--events 20000] [--repeat 3] [--batch 200]

A scratch schema with the bus's outbox gets N invoice-like events; the platform's own
`OutboxRelay.publish_pending` publishes them in its batches, with publisher confirms, to
the events exchange of the bench's RabbitMQ vhost (no queue is bound to their routing key,
so the broker drops them, as it drops the invoices nobody consumes in a billing run). The
process's CPU time (this process is the relay) and wall time are measured per repetition,
on uvloop as the services run; the figures are the medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid

if __name__ == "__main__" and not __package__:  # run as `python bench/billing/relay.py`
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(__file__))) or ".")

import aio_pika
import asyncpg
import uvloop

from bench.billing.stack import SERVER_DSN, VHOST, ensure_vhost
from services.common import bus

EVENTS = """
INSERT INTO {schema}.outbox (id, type, data)
SELECT gen_random_uuid(), 'bench.relay.issued',
       jsonb_build_object('invoice_id', gen_random_uuid(),
                          'number', '2026-' || lpad(n::text, 6, '0'),
                          'customer_id', gen_random_uuid(),
                          'customer_number', (300000 + n)::text,
                          'period', '2026-11', 'kind', 'regular', 'status', 'issued',
                          'total', '6000.00', 'hold_reasons', '[]'::jsonb,
                          'final_order_ids', '[]'::jsonb)
FROM generate_series(1, $1) n
"""


async def once(pool: asyncpg.Pool, amqp_url: str, *, events: int, batch: int) -> dict:
    """Fill a scratch outbox and publish all of it; CPU and wall seconds."""
    schema = f"bench_relay_{uuid.uuid4().hex[:8]}"
    async with pool.acquire() as conn:
        await conn.execute(f"CREATE SCHEMA {schema}")
        await conn.execute(bus.bus_tables_sql(schema))
        await conn.execute(EVENTS.format(schema=schema), events)
        await conn.execute(f"ANALYZE {schema}.outbox")
    relay = bus.OutboxRelay(pool, schema=schema, amqp_url=amqp_url, batch=batch)
    connection = await aio_pika.connect_robust(amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        await bus.declare_topology(channel)
        wall, cpu = time.perf_counter(), time.process_time()
        while await relay.publish_pending(channel):
            pass
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        await connection.close()
        async with pool.acquire() as conn:
            await conn.execute(f"DROP SCHEMA {schema} CASCADE")
    return {"published": relay.published, "wall_s": wall, "cpu_s": cpu}


async def measure(args: argparse.Namespace) -> list[dict]:
    vhost = ensure_vhost(VHOST)
    amqp_url = f"amqp://guest:guest@127.0.0.1:5672/{'%2F' if vhost == '/' else vhost}"
    pool = await asyncpg.create_pool(f"{SERVER_DSN}/postgres", min_size=2, max_size=3)
    try:
        return [
            await once(pool, amqp_url, events=args.events, batch=args.batch)
            for _ in range(args.repeat)
        ]
    finally:
        await pool.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.billing.relay", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch", type=int, default=200, help="events per relay batch")
    args = parser.parse_args(argv)
    runs = uvloop.run(measure(args))
    for run in runs:
        print(
            f"  {run['published']} events: {run['wall_s']:.2f} s wall, {run['cpu_s']:.2f} s CPU, "
            f"{run['cpu_s'] / run['published'] * 1e6:.0f} us CPU per event, "
            f"{run['published'] / run['wall_s']:.0f} events/s"
        )
    per_event = statistics.median(r["cpu_s"] / r["published"] * 1e6 for r in runs)
    rate = statistics.median(r["published"] / r["wall_s"] for r in runs)
    print(f"median: {per_event:.0f} us CPU per event, {rate:.0f} events/s")


if __name__ == "__main__":
    main()
