"""bench/reads: the reads of a big city's day, through the real services, beside a floor that
sends the same SQL from a bare FastAPI + asyncpg app, at 50 concurrent clients.

    .venv/bin/python -m bench.reads.run [--customers 100000] [--requests 2000] [--json]

1. a scratch database through every service's migrations, seeded set-based
   (bench/reads/seed.py): 100 000 customers, 200 000 orders, Bosam SÄF's group mailbox of
   10 000 messages (not timed);
2. the identity, orders, absence and messaging services on spare ports
   (bench/reads/stack.py), and the floor (bench/reads/floor.py) in a process of its own;
3. for each read (bench/reads/queries.py): a warm-up of both, then the floor and the
   service in turn, in `--rounds` halves each, every request a platform token (ES256,
   verified by the service against the identity service's keys) of one of 50 people;
4. per read: p50 and p99 of the service and of the floor, the p99 ratio, the CPU seconds
   of the processes, and `EXPLAIN (ANALYZE, BUFFERS)` of the statement for one request.

The goal from the issue: each service p99 at most 1.5 × the floor's p99 in the same run.
Reported, not asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

if __name__ == "__main__" and not __package__:  # run as `python bench/reads/run.py`
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(__file__))) or ".")

import asyncpg
import httpx
import uvloop

from bench.billing import cpu
from bench.billing.stack import free_port
from bench.reads.queries import QUERIES, Query, Samples, formats, name_parts
from bench.reads.seed import seed
from bench.reads.stack import Stack
from services.common.settings import Settings
from services.identity import keys

GOAL_RATIO = 1.5


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def samples(conn: asyncpg.Connection, rng: random.Random) -> Samples:
    """Search texts from 1 000 customers drawn at random (the same every run)."""
    await conn.execute("SELECT setseed(0.42)")
    rows = await conn.fetch(
        """SELECT first_name, last_name, personnummer, customer_number
           FROM orders.customers ORDER BY random() LIMIT 1000"""
    )
    return Samples(
        names=[name_parts(r["first_name"], r["last_name"], rng) for r in rows],
        personnummer=[formats(r["personnummer"], rng) for r in rows],
        numbers=[r["customer_number"] for r in rows],
    )


def tokens(query: Query, clients: int, settings: Settings) -> list[str]:
    """A platform token for each client, signed as the identity service signs them."""
    signing = keys.load(settings)
    now = datetime.now(UTC)
    return [
        keys.sign(
            signing,
            settings,
            sub=query.caller.sub(i),
            name=f"Bench {query.caller.role.value} {i}",
            role=query.caller.role,
            unit=query.caller.unit,
            now=now,
        ).token
        for i in range(clients)
    ]


async def load(
    http: httpx.AsyncClient,
    *,
    url: str,
    query: Query,
    index: int,
    floor: bool,
    found: Samples,
    bearer: list[str],
    requests: int,
) -> tuple[list[float], int]:
    """`requests` requests from len(bearer) clients at once; latencies (ms) and errors."""
    latencies: list[float] = []
    errors = 0
    left = requests

    async def client(i: int) -> None:
        nonlocal left, errors
        headers = {"Authorization": f"Bearer {bearer[i]}"}
        while left > 0:
            left -= 1
            params = query.params(found)
            if floor:
                target = f"{url}/q/{index}"
                params = {**params, "sub": query.caller.sub(i)}
            else:
                target = url + query.path
            started = time.perf_counter()
            try:
                response = await http.get(target, params=params, headers=headers)
            except httpx.TransportError:
                errors += 1
                continue
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                errors += 1

    await asyncio.gather(*(client(i) for i in range(len(bearer))))
    return latencies, errors


async def explain(conn: asyncpg.Connection, query: Query, found: Samples, settings: Settings):  # type: ignore[no-untyped-def]
    """EXPLAIN (ANALYZE, BUFFERS) of the statement the service sends for one request."""
    params = query.params(found)
    sql, args = await query.sql(params, query.caller.sub(0), settings)
    rows = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *args)
    return params, [r[0] for r in rows]


async def measure_one(
    stack: Stack,
    floor_url: str,
    conn: asyncpg.Connection,
    index: int,
    query: Query,
    found: Samples,
    args: argparse.Namespace,
    pids: dict[str, int],
) -> dict[str, Any]:
    settings = Settings(env="test")
    bearer = tokens(query, args.concurrency, settings)
    limits = httpx.Limits(
        max_connections=args.concurrency, max_keepalive_connections=args.concurrency
    )
    service_url = stack.url(query.service)
    result: dict[str, Any] = {"query": query.name, "server": query.service}
    common = {"query": query, "index": index, "found": found, "bearer": bearer}
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        # warm-up, not counted: pools, prepared statements, caches
        await load(http, url=service_url, floor=False, requests=args.warmup, **common)
        await load(http, url=floor_url, floor=True, requests=args.warmup, **common)
    times: dict[str, list[float]] = {"service": [], "floor": []}
    errors = {"service": 0, "floor": 0}
    spent: dict[str, float] = {}
    share = args.requests // args.rounds
    for _ in range(args.rounds):
        for kind, url in (("floor", floor_url), ("service", service_url)):
            # each turn on connections of its own, opened by one request per client (not
            # counted): a connection left idle over a server's keep-alive (5 s) is closed
            async with httpx.AsyncClient(timeout=60, limits=limits) as http:
                floor = kind == "floor"
                await load(http, url=url, floor=floor, requests=args.concurrency, **common)
                before = cpu.snapshot(pids, stack.database)
                latencies, failed = await load(http, url=url, floor=floor, requests=share, **common)
                after = cpu.spent(before, cpu.snapshot(pids, stack.database))
                for name, seconds in after.items():
                    key = f"{kind}: {name}"
                    # below 0: a backend closed during the turn (asyncpg closes a pool's
                    # idle connections after 5 minutes) and took its seconds with it
                    total = spent.get(key, 0.0)
                    spent[key] = float("nan") if seconds < 0 else round(total + seconds, 2)
                times[kind] += latencies
                errors[kind] += failed
    for kind in ("service", "floor"):
        values = times[kind]
        result[kind] = {
            "p50_ms": round(statistics.median(values), 1),
            "p99_ms": round(percentile(values, 0.99), 1),
            "requests": len(values),
            "errors": errors[kind],
        }
    result["p99_ratio"] = round(result["service"]["p99_ms"] / result["floor"]["p99_ms"], 2)
    result["p50_ratio"] = round(result["service"]["p50_ms"] / result["floor"]["p50_ms"], 2)
    # the CPU the server side spent: the service's process (or the floor's) and PostgreSQL
    result["cpu_s"] = {
        key: value
        for key, value in spent.items()
        if key.endswith(("postgres (bench db)", "bench process"))
        or key == f"service: {query.service}"
        or key == "floor: floor"
    }
    params, plan = await explain(conn, query, found, settings)
    result["plan_for"] = params
    result["plan"] = plan
    return result


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    stack = Stack()
    rng = random.Random(42)
    started = time.perf_counter()
    await asyncio.to_thread(stack.migrate)
    conn = await asyncpg.connect(stack.dsn)
    try:
        counts = await seed(conn, customers=args.customers)
        seeding = time.perf_counter() - started
        found = await samples(conn, rng)
        await asyncio.to_thread(stack.start)
        floor_port = free_port()
        stack.spawn(
            "floor",
            [sys.executable, "-m", "bench.reads.floor", "--port", str(floor_port)],
            env={**stack.env(), "PYTHONPATH": os.getcwd()},
        )
        floor_url = f"http://127.0.0.1:{floor_port}"
        stack.wait("the floor", lambda: _up(f"{floor_url}/health"))
        pids = stack.pids()
        chosen = [i for i in range(len(QUERIES)) if not args.only or i in args.only]
        results = []
        for index in chosen:
            one = await measure_one(
                stack, floor_url, conn, index, QUERIES[index], found, args, pids
            )
            results.append(one)
            report_one(one, out=sys.stderr if args.json else sys.stdout)
    finally:
        await conn.close()
        stack.stop()
        if not args.keep:
            await _drop(stack.database)
    return {
        "customers": args.customers,
        "rows": counts,
        "seed_s": round(seeding, 1),
        "concurrency": args.concurrency,
        "requests": args.requests,
        "warmup": args.warmup,
        "commit": _commit(),
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"load average {os.getloadavg()[0]:.1f}"
        ),
        "results": results,
    }


def _up(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    )
    dirty = subprocess.run(["git", "diff", "--quiet", "HEAD"], check=False).returncode
    return done.stdout.strip() + (" (with changes)" if dirty else "")


async def _drop(database: str) -> None:
    conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await conn.close()


def report_one(one: dict[str, Any], out: Any = sys.stdout) -> None:
    service, floor = one["service"], one["floor"]
    held = "holds" if one["p99_ratio"] <= GOAL_RATIO else "does not hold"
    lines = [
        f"\n== {one['query']} ({one['server']}) ==",
        f"  service p50 {service['p50_ms']} ms, p99 {service['p99_ms']} ms "
        f"({service['requests']} requests, {service['errors']} errors)",
        f"  floor   p50 {floor['p50_ms']} ms, p99 {floor['p99_ms']} ms "
        f"({floor['requests']} requests, {floor['errors']} errors)",
        f"  p99 ratio {one['p99_ratio']} (goal <= {GOAL_RATIO}: {held}); "
        f"p50 ratio {one['p50_ratio']}",
        "  CPU s: " + ", ".join(f"{k} {v}" for k, v in one["cpu_s"].items()),
        f"  plan for {one['plan_for']}:",
        *(f"    {line}" for line in one["plan"]),
    ]
    print("\n".join(lines), file=out, flush=True)


def report(result: dict[str, Any]) -> None:
    print(
        f"\n{result['customers']} customers; rows {result['rows']}; seeded in {result['seed_s']} s"
    )
    print(f"commit {result['commit']}; {result['machine']}")
    print(
        f"{result['concurrency']} clients, {result['requests']} requests per query and side, "
        f"warm-up {result['warmup']} excluded\n"
    )
    print("| read | service p50 / p99 ms | floor p50 / p99 ms | p99 ratio | goal |")
    print("|---|---:|---:|---:|---|")
    for one in result["results"]:
        s, f = one["service"], one["floor"]
        held = "holds" if one["p99_ratio"] <= GOAL_RATIO else "**not met**"
        print(
            f"| {one['query']} | {s['p50_ms']} / {s['p99_ms']} | {f['p50_ms']} / {f['p99_ms']} "
            f"| {one['p99_ratio']} | {held} |"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.reads.run", description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2000, help="per query and side")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2, help="floor and service take turns")
    parser.add_argument(
        "--only", type=int, action="append", help="measure only these queries (0-based)"
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args(argv)
    # the clients on uvloop, as the services run: httpx costs the bench about 4 ms of CPU a
    # request, on the same two cores as the services
    result = uvloop.run(measure(args))
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    else:
        report(result)
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
