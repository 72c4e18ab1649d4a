"""bench/billing: bill one month of 100 000 ongoing stays through the BillingRun workflow,
beside the floor of one set-based statement over the same read model.

    .venv/bin/python -m bench.billing.run [--customers 100000] [--json] [--keep]

The bench brings up the stack's own processes (bench/billing/stack.py): a Temporal dev
server, the lifecare worker and the billing service, on spare ports, a scratch database and
a RabbitMQ vhost of their own, so nothing reaches another stack on this machine. Then:

1. seed the read model (not timed): N customers, each with one ongoing stay (one in ten
   moved in during the month), a fifth with an absence, fee decisions for 99 %;
2. floor (timed): one INSERT … SELECT computes the month's invoices and lines into scratch
   tables (bench/billing/floor.py);
3. run (timed): `POST /billing-runs {period}` as a fee administrator, a wait for its
   workflow to close, then `GET /billing-runs/{id}` until it says `completed`: the real
   path through the API,
   the BillingRun workflow, one activity per batch of set-based SQL with numbering, events
   and the outbox;
4. floor again (timed), so the floor is measured before and after on the same database;
5. compare: every invoice and line of the run against the floor's, to the öre.

The goals from the issue: the whole run in at most 60 s and at most 3 × the floor's time
(the mean of its two measurements). They are reported, not asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time

if __name__ == "__main__" and not __package__:  # run as `python bench/billing/run.py`
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(__file__))) or ".")

import asyncpg
import httpx
from temporalio.client import Client, WorkflowHistoryEventFilterType

from bench.billing import cpu
from bench.billing.floor import compare, run_floor
from bench.billing.seed import seed
from bench.billing.stack import Stack
from services.billing.domain import DEFAULT_CARE_ABSENCE_REASONS, Period, period_to_bill
from services.common.auth import issue_token
from services.common.dates import today_in_stockholm
from services.common.settings import Settings

READ_MODEL = [
    "billing.customers",
    "billing.stays",
    "billing.absences",
    "billing.fee_decisions",
    "billing.tariffs",
]
WRITTEN = ["billing.invoices", "billing.invoice_lines", "billing.outbox", "billing.audit"]
GOAL_SECONDS = 60.0
GOAL_RATIO = 3.0
FOOD = 400_000
CARE_MAX = 266_000


async def bill_through_the_api(stack: Stack, period: Period) -> tuple[dict, float]:
    """POST /billing-runs, wait for its workflow, then read the run: the run and its wall
    time (s) from the POST until the API says `completed`.

    The bench does not poll the API while the run runs: every 50 ms, as it used to, that was
    about 270 authenticated requests, each a database read, on the two cores the run needs.
    Temporal tells it when the workflow has closed (a long poll, no work in between)."""
    settings = Settings(env="test")
    token = issue_token(settings, sub="bench", name="Bench", role="fee_admin")
    headers = {"Authorization": f"Bearer {token}"}
    client = await Client.connect(stack.temporal_address)
    async with httpx.AsyncClient(base_url=stack.billing_url, timeout=30) as http:
        started = time.perf_counter()
        response = await http.post("/billing-runs", json={"period": str(period)}, headers=headers)
        response.raise_for_status()
        accepted = response.json()
        handle = client.get_workflow_handle(accepted["workflow_id"])
        async for _closed in handle.fetch_history_events(
            wait_new_event=True, event_filter_type=WorkflowHistoryEventFilterType.CLOSE_EVENT
        ):
            break  # closed, however it ended: the run's row says how
        while True:
            run = (await http.get(f"/billing-runs/{accepted['id']}", headers=headers)).json()
            if run["status"] != "running":
                return run, time.perf_counter() - started
            await asyncio.sleep(0.05)  # the workflow closes just after the run's row says so


async def workflow_times(stack: Stack, workflow_id: str) -> dict[str, float | int]:
    """What the Temporal server saw: the workflow's own duration and its history length."""
    client = await Client.connect(stack.temporal_address)
    described = await client.get_workflow_handle(workflow_id).describe()
    assert described.close_time is not None
    return {
        "workflow_s": round((described.close_time - described.start_time).total_seconds(), 3),
        "history_events": described.history_length,
    }


async def outbox_drained(pool: asyncpg.Pool, *, give_up_after: float = 300) -> float:
    """Seconds until the relay has published every invoice event to RabbitMQ."""
    started = time.perf_counter()
    while await pool.fetchval("SELECT count(*) FROM billing.outbox WHERE published_at IS NULL"):
        if time.perf_counter() - started > give_up_after:
            return float("nan")
        await asyncio.sleep(0.2)
    return time.perf_counter() - started


async def measure(args: argparse.Namespace) -> dict:
    period = Period.parse(args.period) if args.period else period_to_bill(today_in_stockholm())
    stack = Stack(hold_events=args.hold_events)
    await asyncio.to_thread(stack.start)
    pool = await asyncpg.create_pool(stack.dsn, min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn:
            started = time.perf_counter()
            await seed(conn, customers=args.customers, period=period, food=FOOD, care_max=CARE_MAX)
            seeding = time.perf_counter() - started
            # settle the database the same for both: autovacuum would otherwise wake for the
            # 300 000 rows just seeded in the middle of the floor or the run
            await conn.execute(f"VACUUM ANALYZE {', '.join(READ_MODEL)}")
            # warm the caches the same for both: read the read model once
            await conn.fetchval(
                "SELECT count(*) FROM billing.stays JOIN billing.absences USING (customer_id)"
            )
            reasons = list(DEFAULT_CARE_ABSENCE_REASONS)
            floor_before = await run_floor(conn, period, reasons)
        rss_before = cpu.peak_rss_mib(stack.pids())
        before = cpu.snapshot(stack.pids(), stack.database)
        run, wall = await bill_through_the_api(stack, period)
        during_run = cpu.spent(before, cpu.snapshot(stack.pids(), stack.database))
        peak_rss = cpu.peak_rss_mib(stack.pids())
        drained = float("nan") if args.hold_events else await outbox_drained(pool)
        peak_rss_drained = cpu.peak_rss_mib(stack.pids())
        async with pool.acquire() as conn:
            # and again before the second floor, for the 400 000 rows the run wrote
            await conn.execute(f"VACUUM ANALYZE {', '.join(READ_MODEL + WRITTEN)}")
            floor_after = await run_floor(conn, period, reasons)
            checked = await compare(conn, run["id"])
        server = await workflow_times(stack, run["workflow_id"])
    finally:
        await pool.close()
        stack.stop()
        if not args.keep:
            await _drop(stack.database)
    floor = (floor_before + floor_after) / 2
    invoices = run["invoices"]
    same = (
        checked["differing_invoices"] == 0
        and checked["differing_lines"] == 0
        and checked["floor_total"] == checked["run_total"]
    )
    return {
        "events": "held in the outbox" if args.hold_events else "published while the run runs",
        "period": str(period),
        "customers": args.customers,
        "seed_s": round(seeding, 2),
        "floor_s": {"before": round(floor_before, 3), "after": round(floor_after, 3)},
        "run": {
            "status": run["status"],
            "wall_s": round(wall, 3),
            "invoices": invoices,
            "issued": run["issued"],
            "held": run["held"],
            "total": run["total"],
            "invoices_per_s": round(invoices / wall, 1) if wall else None,
            **server,
        },
        "cpu_s_during_run": during_run,
        "peak_rss_mib": {
            "before the run": rss_before,
            "after the run": peak_rss,
            "after the events drained": peak_rss_drained,
        },
        "outbox_drained_after_s": round(drained, 2),
        "floor_invoices_per_s": round(checked["floor_invoices"] / floor, 1),
        "ratio_to_floor": round(wall / floor, 2),
        "compare": checked,
        "totals_equal_to_the_ore": same,
        "goals": {
            f"run <= {GOAL_SECONDS:.0f} s": wall <= GOAL_SECONDS,
            f"run <= {GOAL_RATIO:.0f} x floor": wall <= GOAL_RATIO * floor,
        },
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
    }


async def _drop(database: str) -> None:
    conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await conn.close()


def report(result: dict) -> None:
    run, floor = result["run"], result["floor_s"]
    print(f"period {result['period']}, {result['customers']} ongoing stays ({result['machine']})")
    print(f"  events: {result['events']}")
    print(f"  seeded in {result['seed_s']} s (not timed)")
    print(f"  floor: {floor['before']} s before, {floor['after']} s after the run")
    print(
        f"  run:   {run['wall_s']} s wall ({run['workflow_s']} s in the workflow), "
        f"{run['invoices']} invoices ({run['issued']} issued, {run['held']} held), "
        f"{run['invoices_per_s']} invoices/s; total {run['total']} kr"
    )
    print(f"  ratio run / floor: {result['ratio_to_floor']}")
    busy = ", ".join(f"{name} {spent}" for name, spent in result["cpu_s_during_run"].items())
    print(f"  CPU seconds during the run: {busy}")
    rss = result["peak_rss_mib"]
    peaks = ", ".join(
        f"{name} {rss['before the run'].get(name)} / {mib} / "
        f"{rss['after the events drained'].get(name)}"
        for name, mib in rss["after the run"].items()
    )
    print(f"  peak resident memory (VmHWM, MiB) before / after the run / drained: {peaks}")
    print(f"  events all published {result['outbox_drained_after_s']} s after the run")
    print(
        f"  same invoices and lines as the floor, to the öre: {result['totals_equal_to_the_ore']}"
    )
    for goal, held in result["goals"].items():
        print(f"  goal {goal}: {'holds' if held else 'does not hold'}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.billing.run", description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--period", help="YYYY-MM (default: last month)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument(
        "--hold-events",
        action="store_true",
        help="diagnostic: keep the run's events in the outbox (the relay cannot connect)",
    )
    args = parser.parse_args(argv)
    result = asyncio.run(measure(args))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        report(result)
    sys.stdout.flush()
    os._exit(0 if result["totals_equal_to_the_ore"] else 1)


if __name__ == "__main__":
    main()
