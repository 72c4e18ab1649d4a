"""bench/worker: the lifecare worker's memory with 10 000 ongoing stays and 1 000 orders being
reminded, and what a signal or a confirmation costs when its lifecycle is not in the
worker's cache and must be replayed.

    .venv/bin/python -m bench.worker.run [--stays 10000] [--unconfirmed 1000] [--cache N]

The bench brings up its own stack (bench/worker/stack.py): a Temporal dev server, a scratch
database and the worker as `lifecare worker` runs it, every activity real, on spare ports.

1. fill (timed): 1 000 unconfirmed lifecycles started with `lifecycle_client.start`, sent 3
   days ago, so each one's first reminder is due as it starts (the worker writes 1 000
   `notification.requested` events); then 10 000 stays, each a real OrderLifecycle started
   with its state as a continue-as-new hands it on (`LifecycleInput`): half begun, with an
   open absence whose escalation timer is set, half confirmed and waiting on the start
   timer. The orders and executions they belong to are written into the orders schema
   first (bench/worker/seed.py).
2. signals: absence signals to K begun stays that the worker has in its cache (each asked
   its `status` just before: a query loads a run into the cache) and to K that it has not
   seen since they started (11 000 lifecycles ago: with a cache smaller than that, they
   were evicted), interleaved, C at a time. The time of one is from its
   `WorkflowExecutionSignaled` event to the `WorkflowTaskCompleted` that handled it, read
   from the history (the server's clock): the signal's RPC returns before any worker
   sees it, whatever the cache.
3. confirmations: the `confirm` update (`lifecycle_client.confirm`, as the orders API sends
   it) to K unconfirmed orders in the cache (asked first) and K not (reminded at the start
   of the fill), interleaved; the time of one is the update's round trip.

The worker's VmRSS is sampled from /proc every 0.5 s; VmHWM is its peak. The SDK's
sticky-cache counters (hits, misses, evictions), scraped from the worker's metrics port
around each phase, show which tasks found their run in the cache. The goals (issue 16,
point 4): VmRSS at most 300 MiB, and the p99 of an uncached signal or confirmation at most
2 × that of a cached one. They are reported, not asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

if __name__ == "__main__" and not __package__:  # run as `python bench/worker/run.py`
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(__file__))) or ".")

import asyncpg
import httpx
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from bench.worker.seed import UNIT, Order, orders, seed, stay_state, unconfirmed_state
from bench.worker.stack import TASK_QUEUE, WorkerStack
from bench.worker.timing import handled_after_signal, percentile
from services.common import temporal
from services.common.dates import today_in_stockholm
from services.common.settings import Settings
from workflows import lifecycle_client
from workflows.models import (
    CUSTOMER_NUMBER,
    ORDER_STATUS,
    UNIT_ID,
    AbsenceChange,
    Actor,
    LifecycleInput,
    lifecycle_id,
)

MIB = 1024 * 1024
GOAL_RSS_MIB = 300
GOAL_RATIO = 2.0
T = TypeVar("T")


class RssSampler(threading.Thread):
    """VmRSS of a process every half second, each sample tagged with the bench's phase."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.phase = "start-up"
        self.samples: list[tuple[str, int]] = []
        self.done = threading.Event()

    def status(self) -> dict[str, int]:
        values = {}
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                key, _, rest = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    values[key] = int(rest.split()[0]) * 1024
        return values

    def run(self) -> None:
        while not self.done.wait(0.5):
            try:
                self.samples.append((self.phase, self.status()["VmRSS"]))
            except (FileNotFoundError, KeyError):
                return

    def peak(self, phase: str) -> float:
        return max((rss for p, rss in self.samples if p == phase), default=0) / MIB


def cache_counters(url: str) -> dict[str, float]:
    """The SDK's sticky-cache metrics and workflow-task counts from the worker's /metrics."""
    wanted = {
        "temporal_sticky_cache_hit": "hits",
        "temporal_sticky_cache_miss": "misses",
        "temporal_sticky_cache_total_forced_eviction": "evictions",
        "temporal_sticky_cache_size": "size",
        "temporal_workflow_task_execution_latency_count": "tasks",
    }
    found = dict.fromkeys(wanted.values(), 0.0)
    for line in httpx.get(url, timeout=10).text.splitlines():
        name = line.split("{")[0].split(" ")[0].removesuffix("_total")
        if name in wanted and not line.startswith("#"):
            found[wanted[name]] += float(line.rsplit(" ", 1)[1])
    return found


def delta(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    return {k: after[k] - before[k] if k != "size" else after[k] for k in after}


async def each(items: Sequence[T], work: Callable[[T], Awaitable[Any]], concurrency: int) -> list:
    """Run `work` on every item, `concurrency` at a time; the results in the items' order."""
    results: list[Any] = [None] * len(items)
    position = iter(range(len(items)))

    async def client() -> None:
        for i in position:
            results[i] = await work(items[i])

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return results


async def fill(client: Client, rows: list[Order], unconfirmed: int, concurrency: int) -> float:
    """Start every lifecycle, the unconfirmed first; returns the seconds it took."""
    now = datetime.now(UTC)
    today = today_in_stockholm(now)

    async def start(order: Order) -> None:
        if order.n < unconfirmed:
            await lifecycle_client.start(
                client,
                task_queue=TASK_QUEUE,
                reminder_after=timedelta(days=3),
                reminder_every=timedelta(days=7),
                ivo_after=timedelta(days=90),
                **unconfirmed_state(order, today=today, now=now),  # type: ignore[arg-type]
            )
            return
        state = stay_state(order, today=today, now=now)
        await client.start_workflow(
            "OrderLifecycle",
            LifecycleInput(state=state),
            id=lifecycle_id(order.order_id),
            task_queue=TASK_QUEUE,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(CUSTOMER_NUMBER, order.customer_number),
                    SearchAttributePair(UNIT_ID, UNIT),
                    SearchAttributePair(ORDER_STATUS, state.status),
                ]
            ),
        )

    began = time.perf_counter()
    await each(rows, start, concurrency)
    return time.perf_counter() - began


async def settle(url: str, conn: asyncpg.Connection, reminders: int, limit: float) -> float:
    """Wait until every reminder is written and the worker's task count stands still for 3 s."""
    began = time.perf_counter()
    last, still_since = -1.0, time.perf_counter()
    while time.perf_counter() - began < limit:
        written = await conn.fetchval(
            "SELECT count(*) FROM orders.outbox WHERE type = 'notification.requested'"
        )
        tasks = cache_counters(url)["tasks"]
        if tasks != last:
            last, still_since = tasks, time.perf_counter()
        if written >= reminders and time.perf_counter() - still_since >= 3:
            break
        await asyncio.sleep(0.5)
    return time.perf_counter() - began


def interleave(cached: list[Order], uncached: list[Order]) -> list[tuple[str, Order]]:
    """One of each in turn, so both kinds meet the same load."""
    pairs = zip(cached, uncached, strict=True)
    return [item for c, u in pairs for item in (("cached", c), ("uncached", u))]


async def signals(
    client: Client, cached: list[Order], uncached: list[Order], concurrency: int
) -> dict[str, list[float]]:
    """Absence signals, cached and uncached interleaved, each client waiting until its
    signal is handled before the next; seconds from signal to handled, and in the worker."""
    today = today_in_stockholm()
    items = interleave(cached, uncached)

    times: dict[str, list[float]] = {}

    async def send(item: tuple[str, Order]) -> None:
        kind, order = item
        change = AbsenceChange(
            event_id=_uuid(f"signal-{order.n}"),
            absence_id=_uuid(f"vacation-{order.n}"),
            revision=1,
            reason="vacation",
            from_date=today + timedelta(days=2),
            to_date=today + timedelta(days=5),
        )
        handle = client.get_workflow_handle(lifecycle_id(order.order_id))
        await handle.signal("absence_changed", change)
        handled, in_worker = await handled_after_signal(handle)  # before the client's next
        times.setdefault(kind, []).append(handled)
        times.setdefault(f"{kind}_in_worker", []).append(in_worker)

    await each(items, send, concurrency)
    return times


async def confirmations(
    client: Client, cached: list[Order], uncached: list[Order], concurrency: int
) -> dict[str, list[float]]:
    """`confirm` updates, cached and uncached interleaved; seconds per round trip."""
    today = today_in_stockholm()
    actor = Actor(sub="bench", role="provider", unit=UNIT)
    items = interleave(cached, uncached)
    times: dict[str, list[float]] = {"cached": [], "uncached": []}

    async def confirm(item: tuple[str, Order]) -> None:
        began = time.perf_counter()
        await lifecycle_client.confirm(client, item[1].order_id, start_date=today, actor=actor)
        times[item[0]].append(time.perf_counter() - began)

    await each(items, confirm, concurrency)
    return times


async def warm(client: Client, rows: list[Order], concurrency: int) -> None:
    """Ask each lifecycle its status: the worker loads the run into its cache to answer."""

    async def ask(order: Order) -> None:
        await client.get_workflow_handle(lifecycle_id(order.order_id)).query("status")

    await each(rows, ask, concurrency)


def _uuid(name: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"bench-worker-{name}")


def summary(times: dict[str, list[float]]) -> dict[str, float]:
    ms = {k: [t * 1000 for t in v] for k, v in times.items()}
    out = {}
    for kind in ms:
        out[f"{kind}_p50_ms"] = percentile(ms[kind], 50)
        out[f"{kind}_p99_ms"] = percentile(ms[kind], 99)
    out["p99_ratio"] = out["uncached_p99_ms"] / out["cached_p99_ms"]
    return out


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    worker_env = {}
    if args.cache is not None:
        worker_env["LIFECARE_WORKER_CACHED_WORKFLOWS"] = str(args.cache)
    stack = WorkerStack(worker_env=worker_env)
    result: dict[str, Any] = {}
    try:
        pid = stack.start()
        sampler = RssSampler(pid)
        sampler.start()
        os.environ.update(stack.env())
        settings = Settings()
        client = await temporal.connect(settings)
        conn = await asyncpg.connect(stack.dsn)
        rows = orders(args.stays + args.unconfirmed, unconfirmed=args.unconfirmed)
        await seed(conn, rows, today=today_in_stockholm())
        await asyncio.sleep(2)
        idle = sampler.status()["VmRSS"] / MIB

        sampler.phase = "fill"
        started = cache_counters(stack.metrics_url)
        seconds = await fill(client, rows, args.unconfirmed, args.start_concurrency)
        settled = await settle(stack.metrics_url, conn, args.unconfirmed, limit=600)
        filled = delta(cache_counters(stack.metrics_url), started)
        after_fill = sampler.status()["VmRSS"] / MIB
        reminders = await conn.fetchval(
            "SELECT count(*) FROM orders.outbox WHERE type = 'notification.requested'"
        )

        k = args.sample
        begun = [o for o in rows if o.n >= args.unconfirmed and o.n % 2 == 0]
        waiting = [o for o in rows if o.n < args.unconfirmed]
        sampler.phase = "signals"
        before = cache_counters(stack.metrics_url)
        await warm(client, begun[-k:], args.concurrency)
        warmed = delta(cache_counters(stack.metrics_url), before)
        before = cache_counters(stack.metrics_url)
        signal_times = await signals(client, begun[-k:], begun[:k], args.concurrency)
        signalled = delta(cache_counters(stack.metrics_url), before)

        sampler.phase = "confirms"
        await warm(client, waiting[-k:], args.concurrency)
        before = cache_counters(stack.metrics_url)
        confirm_times = await confirmations(client, waiting[-k:], waiting[:k], args.concurrency)
        confirmed = delta(cache_counters(stack.metrics_url), before)
        sampler.phase = "after"
        await asyncio.sleep(5)
        end = sampler.status()
        sampler.done.set()
        await conn.close()

        peak = end["VmHWM"] / MIB
        result = {
            "stays": args.stays,
            "unconfirmed": args.unconfirmed,
            "cache": args.cache if args.cache is not None else settings.worker_cached_workflows,
            "fill_seconds": round(seconds, 1),
            "fill_starts_per_s": round(len(rows) / seconds, 1),
            "settle_seconds": round(settled, 1),
            "reminders_written": reminders,
            "rss_mib": {
                "idle": round(idle, 1),
                "fill_max": round(sampler.peak("fill"), 1),
                "after_fill": round(after_fill, 1),
                "signals_max": round(sampler.peak("signals"), 1),
                "confirms_max": round(sampler.peak("confirms"), 1),
                "end": round(end["VmRSS"] / MIB, 1),
                "hwm": round(peak, 1),
            },
            "cache_counters": {
                "fill": filled,
                "warm": warmed,
                "signals": signalled,
                "confirms": confirmed,
            },
            "signal_handled": {k2: round(v, 1) for k2, v in summary(signal_times).items()},
            "confirm": {k2: round(v, 1) for k2, v in summary(confirm_times).items()},
            "sample": k,
            "concurrency": args.concurrency,
            "start_concurrency": args.start_concurrency,
            "load_average": os.getloadavg(),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}",
        }
        result["goals"] = {
            f"VmHWM <= {GOAL_RSS_MIB} MiB": peak <= GOAL_RSS_MIB,
            f"signal p99 uncached <= {GOAL_RATIO:.0f} x cached": result["signal_handled"][
                "p99_ratio"
            ]
            <= GOAL_RATIO,
            f"confirm p99 uncached <= {GOAL_RATIO:.0f} x cached": result["confirm"]["p99_ratio"]
            <= GOAL_RATIO,
        }
    finally:
        stack.stop()
        if not args.keep:
            await _drop(stack.database)
    return result


async def _drop(database: str) -> None:
    conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stays", type=int, default=10_000)
    parser.add_argument("--unconfirmed", type=int, default=1_000)
    parser.add_argument("--cache", type=int, help="the worker's cache size (its setting if unset)")
    parser.add_argument("--sample", type=int, default=200, help="K cached and K uncached")
    parser.add_argument("--concurrency", type=int, default=10, help="C clients measuring")
    parser.add_argument("--start-concurrency", type=int, default=50, help="clients starting")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(bench(args))
    print(json.dumps(result, indent=None if args.json else 2, default=str))
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown, which the Temporal SDK can abort (sdk-python #300)


if __name__ == "__main__":
    main()
