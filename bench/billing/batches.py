"""bench/billing/batches: where a billing run's time goes, statement by statement and batch
by batch, and the plans of chosen batches (EXPLAIN (ANALYZE, BUFFERS)).

    .venv/bin/python -m bench.billing.batches [--customers 100000] [--explain 0,-1]
        [--dsn postgresql://…/a_seeded_database] [--keep]

No Temporal, no services, no relay: a scratch database (migrated and seeded as bench/billing
seeds it), one run opened and planned as the workflow does, and its batches billed by
`engine.bill_batch` in `--parallel` lanes of one batch after the other, each in its own
transaction, as the activities bill them. Each statement a batch sends is timed; in the
batches named by `--explain` (positions in the run, negative from the end) each statement
that can be is sent as `EXPLAIN (ANALYZE, BUFFERS)` instead (it still runs, so the batch
bills as it would) and its plan is printed. A cost that grows with the run's progress shows
as a statement whose time rises from the first batches to the last.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from typing import Any

import asyncpg

from bench.billing.run import CARE_MAX, FOOD, READ_MODEL, _drop
from bench.billing.seed import seed
from bench.billing.stack import SERVER_DSN
from services.billing import domain, engine, repository, service
from services.billing.domain import DEFAULT_CARE_ABSENCE_REASONS, Period, period_to_bill
from services.common.dates import today_in_stockholm
from services.common.db import create_pool

NAMES = {
    engine._BILL_LINES: "bill_lines (fees)",
    engine._BILL_INVOICES: "bill_invoices",
    engine._STORE_UNCORRECTED: "uncorrected",
    engine._STORE_BATCH_INVOICES: "invoices + events",
}


def _name(sql: str) -> str:
    return NAMES.get(sql) or " ".join(sql.split())[:48]


class Timed:
    """A connection that times every statement it is given, and explains them if asked."""

    def __init__(self, conn: asyncpg.Connection, times: dict[str, float], explain: bool):
        self.conn, self.times, self.explain, self.plans = conn, times, explain, []

    async def _timed(self, method: str, sql: str, *args: Any) -> Any:
        started = time.perf_counter()
        explainable = sql.lstrip().split(None, 1)[0].upper() in {
            "CREATE", "INSERT", "UPDATE", "DELETE", "WITH",
        }  # fmt: skip
        if self.explain and method == "execute" and explainable:
            plan = await self.conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, *args)
            self.plans.append((_name(sql), "\n".join(r[0] for r in plan)))
            result = None
        else:
            result = await getattr(self.conn, method)(sql, *args)
        self.times[_name(sql)] += time.perf_counter() - started
        return result

    async def execute(self, sql: str, *args: Any) -> Any:
        return await self._timed("execute", sql, *args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await self._timed("fetchval", sql, *args)

    async def fetchrow(self, sql: str, *args: Any) -> Any:
        return await self._timed("fetchrow", sql, *args)


async def prepare(dsn: str, customers: int, period: Period) -> None:
    """Migrate and seed a scratch database, settled as bench/billing settles it."""
    await asyncio.to_thread(_migrate, dsn)
    conn = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        await seed(conn, customers=customers, period=period, food=FOOD, care_max=CARE_MAX)
        await conn.execute(f"VACUUM ANALYZE {', '.join(READ_MODEL)}")
        print(f"seeded {customers} in {time.perf_counter() - started:.1f} s", flush=True)
    finally:
        await conn.close()


def _migrate(dsn: str) -> None:
    env = {**os.environ, "LIFECARE_DATABASE_URL": dsn}
    subprocess.run(
        [sys.executable, "-m", "lifecare.cli", "migrate"],
        env=env,
        stdout=subprocess.DEVNULL,
        check=True,
    )


async def bill(dsn: str, period: Period, batch_size: int, parallel: int, explain: list[int]):
    """Bill the month batch by batch as the workflow would; print each statement's time per
    fifth of the run, and the plans of the batches at the positions `explain`."""
    pool = await create_pool(dsn, min_size=1, max_size=parallel + 1)
    run_id = uuid.uuid4()
    async with pool.acquire() as conn, conn.transaction():
        await repository.open_run(
            conn, id=run_id, period=period, workflow_id="bench-batches", requested_by="bench"
        )
    async with pool.acquire() as conn:
        customers, starts = await engine.plan_batches(conn, period=period, batch_size=batch_size)
    bounds: list[uuid.UUID | None] = [None, *starts, None]
    ranges = list(itertools.pairwise(bounds))
    explained = {p % len(ranges) for p in explain}
    correct_from = domain.correction_window_start(
        period, service.DEFAULT_CORRECTION_MONTHS
    ).first_day
    times: list[dict[str, float]] = [defaultdict(float) for _ in ranges]
    walls: list[float] = [0.0] * len(ranges)
    plans: dict[int, list[tuple[str, str]]] = {}

    async def lane(positions: list[int]) -> None:
        for k in positions:
            lo, hi = ranges[k]
            started = time.perf_counter()
            async with pool.acquire() as conn, conn.transaction():
                timed = Timed(conn, times[k], explain=k in explained)
                totals = await engine.bill_batch(
                    timed,  # type: ignore[arg-type]
                    run_id=run_id,
                    period=period,
                    lo=lo,
                    hi=hi,
                    care_reasons=list(DEFAULT_CARE_ABSENCE_REASONS),
                    long_absence_days=domain.LONG_ABSENCE_DAYS,
                    days_per_month=domain.DAYS_PER_MONTH,
                    issued_on=today_in_stockholm(),
                    correct_from=correct_from,
                )
                await engine.count_batch(
                    timed,  # type: ignore[arg-type]
                    id=run_id,
                    totals=totals,
                    correct_from=correct_from,
                )
                if timed.plans:
                    plans[k] = timed.plans
            walls[k] = time.perf_counter() - started

    started = time.perf_counter()
    await asyncio.gather(*(lane(list(range(n, len(ranges), parallel))) for n in range(parallel)))
    wall = time.perf_counter() - started
    await pool.close()
    print(f"{customers} customers in {len(ranges)} batches of {batch_size}, {parallel} lanes: "
          f"{wall:.1f} s, {customers / wall:.0f} invoices/s")  # fmt: skip
    fifths = [range(len(ranges) * n // 5, len(ranges) * (n + 1) // 5) for n in range(5)]
    print("median ms per batch in each fifth of the run (explained batches left out)")
    names = list(dict.fromkeys(n for t in times for n in t))
    for name in [*names, "batch wall"]:

        def ms(ks: range, name: str = name) -> str:
            got = [
                (walls[k] if name == "batch wall" else times[k].get(name, 0.0)) * 1000
                for k in ks
                if k not in explained
            ]
            return f"{statistics.median(got):8.1f}" if got else "       -"

        print(f"  {name:50} {' '.join(ms(ks) for ks in fifths)}")
    for k in sorted(plans):
        print(f"\n=== batch {k} of {len(ranges)} ===")
        for name, plan in plans[k]:
            print(f"--- {name}\n{plan}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.billing.batches", description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--period", help="YYYY-MM (default: last month)")
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--explain", default="0,-1", help="batch positions, e.g. 0,10,-1")
    parser.add_argument(
        "--template", help="a seeded database to bill a copy of (seeded first if missing; kept)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    period = Period.parse(args.period) if args.period else period_to_bill(today_in_stockholm())
    database = f"lifecare_bench_batches_{uuid.uuid4().hex[:8]}"
    dsn = f"{SERVER_DSN}/{database}"

    async def go() -> None:
        if args.template:
            conn = await asyncpg.connect(f"{SERVER_DSN}/postgres")
            try:
                if not await conn.fetchval(
                    "SELECT 1 FROM pg_database WHERE datname = $1", args.template
                ):
                    await prepare(f"{SERVER_DSN}/{args.template}", args.customers, period)
                await conn.execute(f'CREATE DATABASE "{database}" TEMPLATE "{args.template}"')
            finally:
                await conn.close()
        else:
            await prepare(dsn, args.customers, period)
        try:
            explain = [int(p) for p in args.explain.split(",") if p.strip()]
            await bill(dsn, period, args.batch_size, args.parallel, explain)
        finally:
            if args.keep:
                print(f"kept {dsn}")
            else:
                await _drop(database)

    asyncio.run(go())


if __name__ == "__main__":
    main()
