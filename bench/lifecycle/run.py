"""bench/lifecycle: create and confirm orders through the HTTP API, beside a bare-workflow floor.

Run against a running stack (`lifecare up` in another terminal):

    .venv/bin/python -m bench.lifecycle.run [--orders 1000] [--concurrency 20] [--json]

If nothing answers on the orders URL the bench starts `lifecare up` itself as a child process
(in its own session, output in .lifecare/bench-up.log) and stops it with SIGINT at the end;
`--no-start` refuses instead.

Two measurements, in the same process and against the same Temporal server:

* floor: a bare workflow (`BenchFloor`) with its own worker in this process on task queue
  `bench-floor`; each item is `start_workflow` + `execute_update` (the update just returns);
* lifecycle: each item is `POST /orders` (caseworker) then `POST /orders/{id}/confirm`
  (provider of the order's unit), the real path through the API, the OrderLifecycle
  workflow, its activities and PostgreSQL.

Both run C concurrent clients taking items from one shared queue. Order: a warm-up of each
(excluded from the figures), then floor and lifecycle alternately in `--rounds` chunks
(default 1: all of the floor, then all of the lifecycle). The rate is items per second over
the wall time of the phase; latencies are per call (p50/p99). Nothing is asserted: the goals
are reported as held or not.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

if __name__ == "__main__" and not __package__:  # run as `python bench/lifecycle/run.py`
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(__file__))) or ".")

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    import httpx
    from temporalio.client import Client
    from temporalio.worker import Worker

    from lifecare.demo import random_test_personnummer
    from services.common import temporal
    from services.common.auth import issue_token
    from services.common.dates import today_in_stockholm
    from services.common.settings import get_settings

FLOOR_TASK_QUEUE = "bench-floor"
GOAL_RATE_RATIO = 0.5  # lifecycle rate >= half the floor's
GOAL_P99_RATIO = 2.0  # lifecycle confirm p99 <= twice the floor's update p99
# with start_date today the workflow may start the execution before the API reads the order back
CONFIRMED = ("confirmed", "ongoing")


# --- the floor: a bare workflow that is started and receives one update ----------------------


@workflow.defn
class BenchFloor:
    """Waits until it receives its one update, then completes."""

    def __init__(self) -> None:
        self._done = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self._done)

    @workflow.update
    async def touch(self) -> None:
        self._done = True


# --- measuring -----------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0..100) with linear interpolation between closest ranks."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


@dataclass
class Phase:
    """What one kind of work measured: wall time, items done and per-call latencies (s)."""

    name: str
    items: int = 0
    errors: int = 0
    wall: float = 0.0
    calls: dict[str, list[float]] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)

    def add(self, call: str, seconds: float) -> None:
        self.calls.setdefault(call, []).append(seconds)

    def fail(self, text: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(text)

    @property
    def rate(self) -> float:
        return self.items / self.wall if self.wall else float("nan")

    def summary(self) -> dict:
        return {
            "items": self.items,
            "errors": self.errors,
            "wall_s": round(self.wall, 3),
            "rate_per_s": round(self.rate, 2),
            "calls": {
                name: {
                    "n": len(values),
                    "p50_ms": round(percentile(values, 50) * 1000, 2),
                    "p99_ms": round(percentile(values, 99) * 1000, 2),
                    "max_ms": round(max(values) * 1000, 2),
                }
                for name, values in self.calls.items()
            },
            "error_samples": self.error_samples,
        }


async def run_clients(items: list, concurrency: int, one, phase: Phase) -> None:  # type: ignore[no-untyped-def]
    """C clients take items from a shared queue until it is empty; adds the wall time."""
    queue: asyncio.Queue = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)

    async def client(index: int) -> None:
        async with contextlib.AsyncExitStack() as stack:
            state = await one.open(stack, index)
            while True:
                try:
                    item = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                try:
                    await one.do(state, item, phase)
                    phase.items += 1
                except Exception as exc:
                    phase.fail(f"{type(exc).__name__}: {exc}"[:300])

    started = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(concurrency)))
    phase.wall += time.perf_counter() - started


class FloorWork:
    """start_workflow + execute_update of BenchFloor."""

    def __init__(self, client: Client, run_id: str) -> None:
        self.client = client
        self.run_id = run_id

    async def open(self, _stack: contextlib.AsyncExitStack, _index: int) -> Client:
        return self.client

    async def do(self, client: Client, item: str, phase: Phase) -> None:
        t0 = time.perf_counter()
        handle = await client.start_workflow(
            BenchFloor.run, id=f"bench-floor-{self.run_id}-{item}", task_queue=FLOOR_TASK_QUEUE
        )
        t1 = time.perf_counter()
        await handle.execute_update(BenchFloor.touch)
        t2 = time.perf_counter()
        phase.add("start", t1 - t0)
        phase.add("update", t2 - t1)


class LifecycleWork:
    """POST /orders as the caseworker, then POST /orders/{id}/confirm as the unit's provider."""

    def __init__(
        self, base_url: str, unit_id: str, caseworker: str, provider: str, start_in_days: int
    ) -> None:
        self.base_url = base_url
        self.unit_id = unit_id
        self.caseworker = {"Authorization": f"Bearer {caseworker}"}
        self.provider = {"Authorization": f"Bearer {provider}"}
        today = today_in_stockholm()
        self.decision_date = str(today - timedelta(days=7))
        self.start_date = str(today + timedelta(days=start_in_days))

    async def open(self, stack: contextlib.AsyncExitStack, _index: int) -> httpx.AsyncClient:
        return await stack.enter_async_context(
            httpx.AsyncClient(base_url=self.base_url, timeout=60)
        )

    async def do(self, http: httpx.AsyncClient, customer_id: str, phase: Phase) -> None:
        t0 = time.perf_counter()
        created = await http.post(
            "/orders",
            json={
                "customer_id": customer_id,
                "unit_id": self.unit_id,
                "service": "sol_boende",
                "decision_date": self.decision_date,
                "text": "Benchmark: särskilt boende för äldre (SoL – Boende).",
            },
            headers=self.caseworker,
        )
        t1 = time.perf_counter()
        if created.status_code != 201:
            raise RuntimeError(f"create {created.status_code}: {created.text[:200]}")
        order_id = created.json()["id"]
        confirmed = await http.post(
            f"/orders/{order_id}/confirm",
            json={"start_date": self.start_date},
            headers=self.provider,
        )
        t2 = time.perf_counter()
        if confirmed.status_code != 200 or confirmed.json()["status"] not in CONFIRMED:
            raise RuntimeError(f"confirm {confirmed.status_code}: {confirmed.text[:200]}")
        phase.add("create", t1 - t0)
        phase.add("confirm", t2 - t1)


# --- preparing data (not timed) --------------------------------------------------------------


async def prepare(
    base_url: str, admin: str, caseworker: str, unit_id: str, customers: int, concurrency: int
) -> list[str]:
    """Create the run's unit and `customers` customers; return their ids."""
    rng = random.Random()
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        response = await http.post(
            "/units",
            json={"id": unit_id, "name": f"Benchmark {unit_id}"},
            headers={"Authorization": f"Bearer {admin}"},
        )
        if response.status_code != 201:
            raise SystemExit(f"creating unit {unit_id}: {response.status_code} {response.text}")
        ids: list[str] = []
        headers = {"Authorization": f"Bearer {caseworker}"}

        async def create_one(index: int) -> None:
            for _attempt in range(50):
                response = await http.post(
                    "/customers",
                    json={
                        "personnummer": random_test_personnummer(rng),
                        "first_name": "Bench",
                        "last_name": f"Kund {index}",
                    },
                    headers=headers,
                )
                if response.status_code == 201:
                    ids.append(response.json()["id"])
                    return
                if response.status_code != 409:  # 409: that personnummer exists; draw again
                    raise SystemExit(f"creating a customer: {response.status_code} {response.text}")
            raise SystemExit("no free test personnummer after 50 tries")

        queue = list(range(customers))

        async def worker() -> None:
            while queue:
                await create_one(queue.pop())

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return ids


# --- the stack -----------------------------------------------------------------------------


def _healthy(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def start_stack(base_url: str) -> subprocess.Popen[bytes]:
    """Start `lifecare up` in its own session and wait until the orders service is healthy."""
    root = Path(__file__).resolve().parents[2]
    log_path = root / ".lifecare" / "bench-up.log"
    log_path.parent.mkdir(exist_ok=True)
    lifecare = Path(sys.executable).parent / "lifecare"
    command = (
        [str(lifecare), "up"] if lifecare.exists() else [sys.executable, "-m", "lifecare.cli", "up"]
    )
    print(
        f"nothing answers at {base_url}: starting `lifecare up` (log: {log_path})", file=sys.stderr
    )
    process = subprocess.Popen(
        command,
        cwd=root,
        stdout=open(log_path, "ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 180
    while not _healthy(base_url):
        if process.poll() is not None:
            raise SystemExit(f"`lifecare up` exited ({process.returncode}); see {log_path}")
        if time.monotonic() > deadline:
            stop_stack(process)
            raise SystemExit(f"the stack did not come up within 180 s; see {log_path}")
        time.sleep(0.5)
    time.sleep(2)  # let the worker finish connecting
    return process


def stop_stack(process: subprocess.Popen[bytes]) -> None:
    """SIGINT to the `lifecare up` we started (it stops its children in order)."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- the run ---------------------------------------------------------------------------------


def chunks(items: list, rounds: int) -> list[list]:
    size = -(-len(items) // rounds)
    return [items[i : i + size] for i in range(0, len(items), size)]


async def bench(args: argparse.Namespace) -> dict:
    settings = get_settings()
    run_id = time.strftime("%Y%m%d%H%M%S") + f"-{random.randrange(16**4):04x}"
    unit_id = f"bench-{run_id}"
    admin = issue_token(settings, sub="bench-admin", name="Bench Admin", role="admin")
    caseworker = issue_token(
        settings, sub="bench-caseworker", name="Bench Caseworker", role="caseworker"
    )
    provider = issue_token(
        settings, sub="bench-provider", name="Bench Provider", role="provider", unit=unit_id
    )
    n, c, warm = args.orders, args.concurrency, args.warmup

    t0 = time.perf_counter()
    customers = await prepare(args.url, admin, caseworker, unit_id, n + warm, c)
    prepare_s = time.perf_counter() - t0
    log(f"prepared unit {unit_id} and {len(customers)} customers in {prepare_s:.1f} s")

    client = await temporal.connect(settings)  # payloads encrypted, as the services do
    floor, lifecycle = Phase("floor"), Phase("lifecycle")
    floor_work = FloorWork(client, run_id)
    lifecycle_work = LifecycleWork(args.url, unit_id, caseworker, provider, args.start_in_days)
    tuning = {}
    if args.floor_polls:
        tuning["max_concurrent_workflow_task_polls"] = args.floor_polls
    if args.floor_sticky_ratio is not None:
        tuning["nonsticky_to_sticky_poll_ratio"] = args.floor_sticky_ratio
    async with Worker(client, task_queue=FLOOR_TASK_QUEUE, workflows=[BenchFloor], **tuning):
        if warm:
            warm_floor, warm_lifecycle = Phase("floor-warmup"), Phase("lifecycle-warmup")
            await run_clients([f"w{i}" for i in range(warm)], c, floor_work, warm_floor)
            await run_clients(customers[:warm], c, lifecycle_work, warm_lifecycle)
            log(
                f"warm-up: floor {warm_floor.rate:.1f}/s, lifecycle {warm_lifecycle.rate:.1f}/s"
                f" (errors {warm_floor.errors}/{warm_lifecycle.errors})"
            )
        floor_items = [str(i) for i in range(n)]
        for number, (floor_chunk, order_chunk) in enumerate(
            zip(
                chunks(floor_items, args.rounds), chunks(customers[warm:], args.rounds), strict=True
            ),
            start=1,
        ):
            log(f"round {number}: floor starts")
            await run_clients(floor_chunk, c, floor_work, floor)
            log(f"round {number}: lifecycle starts")
            await run_clients(order_chunk, c, lifecycle_work, lifecycle)
            log(
                f"round {number}/{args.rounds}: floor {floor.items} items, "
                f"lifecycle {lifecycle.items} items"
            )

    f, lc = floor.summary(), lifecycle.summary()
    nan = float("nan")
    rate_ratio = lc["rate_per_s"] / f["rate_per_s"] if f["rate_per_s"] else nan
    confirm_p99 = lc["calls"].get("confirm", {}).get("p99_ms", nan)
    update_p99 = f["calls"].get("update", {}).get("p99_ms", nan)
    p99_ratio = confirm_p99 / update_p99 if update_p99 else nan
    return {
        "run_id": run_id,
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "orders": n,
        "concurrency": c,
        "warmup": warm,
        "rounds": args.rounds,
        "start_in_days": args.start_in_days,
        "floor_worker": {
            "max_concurrent_workflow_task_polls": args.floor_polls,
            "nonsticky_to_sticky_poll_ratio": args.floor_sticky_ratio,
        },
        "order_of_phases": "warm-up floor, warm-up lifecycle, then floor/lifecycle alternately "
        f"in {args.rounds} round(s)",
        "prepare_s": round(prepare_s, 2),
        "floor": f,
        "lifecycle": lc,
        "ratios": {
            "rate": round(rate_ratio, 3),
            "confirm_p99_over_update_p99": round(p99_ratio, 3),
        },
        "goals": {
            "rate_at_least_half_floor": rate_ratio >= GOAL_RATE_RATIO,
            "confirm_p99_at_most_twice_floor": p99_ratio <= GOAL_P99_RATIO,
        },
    }


def log(message: str) -> None:
    now = time.time()
    stamp = time.strftime("%H:%M:%S", time.localtime(now)) + f".{int(now % 1 * 1000):03d}"
    print(f"[{stamp}] {message}", file=sys.stderr, flush=True)


def table(result: dict) -> str:
    f, lc = result["floor"], result["lifecycle"]
    rows = [
        ("floor (start + update)", f, "start", "update"),
        ("lifecycle (create + confirm)", lc, "create", "confirm"),
    ]
    lines = [
        f"bench/lifecycle  {result['date']}  N={result['orders']} C={result['concurrency']} "
        f"warm-up={result['warmup']} rounds={result['rounds']} cpus={result['machine']['cpus']}",
        "",
        f"{'':30} {'items/s':>8} {'errors':>6}   {'first call p50/p99 ms':>22}   "
        f"{'second call p50/p99 ms':>23}",
    ]
    for label, s, first, second in rows:
        a, b = s["calls"].get(first), s["calls"].get(second)
        fa = f"{a['p50_ms']:.1f} / {a['p99_ms']:.1f}" if a else "-"
        fb = f"{b['p50_ms']:.1f} / {b['p99_ms']:.1f}" if b else "-"
        lines.append(
            f"{label:30} {s['rate_per_s']:>8.1f} {s['errors']:>6}   {first:>7} {fa:>14}   "
            f"{second:>8} {fb:>14}"
        )
    r, g = result["ratios"], result["goals"]
    lines += [
        "",
        f"lifecycle rate / floor rate           = {r['rate']:.3f}  "
        f"(goal >= {GOAL_RATE_RATIO}: {'holds' if g['rate_at_least_half_floor'] else 'MISSED'})",
        f"confirm p99 / floor update p99        = {r['confirm_p99_over_update_p99']:.3f}  "
        f"(goal <= {GOAL_P99_RATIO}: "
        f"{'holds' if g['confirm_p99_at_most_twice_floor'] else 'MISSED'})",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="bench.lifecycle.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--orders", type=int, default=1000, help="orders (and floor items)")
    parser.add_argument("--concurrency", type=int, default=20, help="concurrent clients")
    parser.add_argument("--warmup", type=int, default=50, help="untimed items of each kind first")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="alternate floor and lifecycle in this many chunks (default 1)",
    )
    parser.add_argument(
        "--start-in-days",
        type=int,
        default=0,
        help="confirm with start_date = today + this (default 0: the workflow "
        "starts the execution at once)",
    )
    parser.add_argument(
        "--floor-polls",
        type=int,
        default=None,
        help="max_concurrent_workflow_task_polls of the floor's worker "
        "(default: the SDK's, as the lifecare worker has)",
    )
    parser.add_argument(
        "--floor-sticky-ratio",
        type=float,
        default=None,
        help="nonsticky_to_sticky_poll_ratio of the floor's worker (default: the SDK's)",
    )
    parser.add_argument("--url", default="http://127.0.0.1:8001", help="the orders service")
    parser.add_argument(
        "--no-start",
        action="store_true",
        help="fail instead of starting `lifecare up` when nothing answers",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    if args.orders < 1 or args.concurrency < 1 or args.rounds < 1 or args.warmup < 0:
        parser.error("--orders, --concurrency and --rounds must be positive")

    stack = None
    if not _healthy(args.url):
        if args.no_start:
            raise SystemExit(f"nothing answers at {args.url}; start `lifecare up` first")
        if _port_open(httpx.URL(args.url).port or 80):
            raise SystemExit(f"{args.url} is taken but not healthy; not starting another stack")
        stack = start_stack(args.url)
    try:
        result = asyncio.run(bench(args))
    finally:
        if stack is not None:
            stop_stack(stack)
    print(json.dumps(result, indent=2) if args.json else table(result), flush=True)
    sys.stdout.flush()
    # leave without interpreter teardown, which the Temporal SDK can abort (sdk-python #300)
    os._exit(0)


if __name__ == "__main__":
    main()
