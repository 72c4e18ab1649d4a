"""The web UI's Startsida under load, against the slowest API call it makes.

A unit with 500 unconfirmed orders and 1,000 customers (20 of them with a confirmed stay
and a current absence); 50 providers of that unit signed in to the web UI, each loading the
Startsida over and over. Then the same 50 clients call each API the page calls, alone, with
a provider token of the unit. The goal of issue 12: the page's p99 at most 1.5 × the p99 of
the slowest of those calls (the page makes its calls concurrently, over one pooled client).

    .venv/bin/python -m bench.web.run            # starts `lifecare up` when nothing answers
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx

from bench.billing import cpu
from bench.lifecycle.run import (
    _healthy,
    percentile,
    prepare,
    start_stack,
    stop_stack,
)
from lifecare.cli import sample_tokens
from services.common.auth import issue_token
from services.common.dates import today_in_stockholm
from services.common.settings import get_settings

ORDERS = "http://127.0.0.1:8001"
ABSENCE = "http://127.0.0.1:8002"
MESSAGING = "http://127.0.0.1:8004"


SERVICES = {"orders": 8001, "absence": 8002, "messaging": 8004, "identity": 8005}


def stack_pids(web: int) -> dict[str, int]:
    """The processes a page's time is spent in: the services the Startsida calls (those of
    `lifecare up`, found by their command line) and the bench's web UI."""
    found = {"web": web}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            command = cpu._command(int(entry.name))
            for name, port in SERVICES.items():
                if f"serve {name} --port {port}" in command:
                    found[name] = int(entry.name)
    return found


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def pool_map(items: list, concurrency: int, one) -> None:  # type: ignore[no-untyped-def]
    queue = list(items)

    async def worker() -> None:
        while queue:
            await one(queue.pop())

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def seed(unit: str, customers: int, unconfirmed: int, absent: int) -> list[str]:
    """The unit, its customers, orders, stays and absences; the absent customers' ids."""
    tokens = sample_tokens(get_settings())
    ids = await prepare(ORDERS, tokens["admin"], tokens["caseworker"], unit, customers, 20)
    caseworker = {"Authorization": f"Bearer {tokens['caseworker']}"}
    provider = {
        "Authorization": "Bearer "
        + issue_token(get_settings(), sub="bench", name="Bench", role="provider", unit=unit)
    }
    today = today_in_stockholm()
    async with httpx.AsyncClient(timeout=60) as http:

        async def order(customer: str) -> dict:
            response = await http.post(
                f"{ORDERS}/orders",
                json={
                    "customer_id": customer,
                    "unit_id": unit,
                    "service": "sol_boende",
                    "decision_date": str(today - timedelta(days=20)),
                    "text": "Beviljas särskilt boende.",
                },
                headers=caseworker,
            )
            response.raise_for_status()
            return response.json()

        await pool_map(ids[:unconfirmed], 20, order)

        async def stay_with_absence(customer: str) -> None:
            made = await order(customer)
            confirmed = await http.post(
                f"{ORDERS}/orders/{made['id']}/confirm",
                json={"start_date": str(today - timedelta(days=10))},
                headers=provider,
            )
            confirmed.raise_for_status()
            for _ in range(100):  # the absence service learns the stay from order.confirmed
                registered = await http.post(
                    f"{ABSENCE}/absences",
                    json={
                        "customer_id": customer,
                        "reason": "hospital",
                        "description": "Inlagd",
                        "from_date": str(today - timedelta(days=2)),
                    },
                    headers=provider,
                )
                if registered.status_code == 201:
                    return
                await asyncio.sleep(0.2)
            raise SystemExit(f"absence not registered: {registered.status_code} {registered.text}")

        absent_ids = ids[unconfirmed : unconfirmed + absent]
        await pool_map(absent_ids, 10, stay_with_absence)
    return absent_ids


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    if not found:
        raise SystemExit("no CSRF field on the sign-in page")
    return found.group(1)


# below the servers' keep-alive (uvicorn: 5 s): an idle connection is dropped by the
# client first, never closed by the server under a request
LIMITS = httpx.Limits(max_connections=2, keepalive_expiry=2.0)


async def signed_in(web: str, user: str, unit: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=web, timeout=60, limits=LIMITS)
    page = await client.get("/logga-in")
    await client.post("/logga-in", data={"csrf": csrf(page.text), "user": user})
    choice = await client.get("/val")
    chosen = await client.post(
        "/val", data={"csrf": csrf(choice.text), "role": "provider", "unit": unit, "next": "/"}
    )
    if chosen.status_code != 303:
        raise SystemExit(f"sign-in of {user} failed: {chosen.status_code}")
    return client


async def timed(clients: list[httpx.AsyncClient], rounds: int, call) -> list[float]:  # type: ignore[no-untyped-def]
    """Each client makes `rounds` calls one after another, all clients at once."""
    seconds: list[float] = []

    async def one(client: httpx.AsyncClient) -> None:
        for _ in range(rounds):
            started = time.perf_counter()
            response = await call(client)
            seconds.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise SystemExit(f"{response.request.url.path}: {response.status_code}")

    await asyncio.gather(*(one(c) for c in clients))
    return seconds


def figures(values: list[float]) -> dict:
    return {
        "n": len(values),
        "p50_ms": round(percentile(values, 50) * 1000, 1),
        "p99_ms": round(percentile(values, 99) * 1000, 1),
    }


async def bench(args: argparse.Namespace) -> dict:
    unit = f"bench-web-{int(time.time())}-{uuid.uuid4().hex[:4]}"
    log(
        f"seeding {unit}: {args.customers} customers, {args.unconfirmed} unconfirmed orders, "
        f"{args.absent} current absences"
    )
    absent = await seed(unit, args.customers, args.unconfirmed, args.absent)
    web = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.web.serve",
        *("--unit", unit, "--users", str(args.users), "--port", str(args.port)),
    )
    base = f"http://127.0.0.1:{args.port}"
    try:
        for _ in range(100):
            if _healthy(base):
                break
            await asyncio.sleep(0.2)
        users = [await signed_in(base, f"bench{i}", unit) for i in range(args.users)]
        token = issue_token(get_settings(), sub="bench", name="Bench", role="provider", unit=unit)
        api = [
            httpx.AsyncClient(
                timeout=60,
                headers={"Authorization": f"Bearer {token}"},
                limits=LIMITS,
            )
            for _ in range(args.users)
        ]
        ids = "&".join(f"id={c}" for c in sorted(absent))
        calls = {
            # the page asks for the box's first ten and the count (X-Total-Count)
            "GET /orders?status=unconfirmed&limit=10": lambda c: c.get(
                f"{ORDERS}/orders", params={"status": "unconfirmed", "limit": 10}
            ),
            "GET /absences?current=true": lambda c: c.get(
                f"{ABSENCE}/absences", params={"current": "true"}
            ),
            "GET /customers?id=…": lambda c: c.get(f"{ORDERS}/customers?{ids}"),
            "GET /messages/unread-count": lambda c: c.get(f"{MESSAGING}/messages/unread-count"),
        }
        log("warm-up")
        await timed(users, 3, lambda c: c.get("/"))
        for call in calls.values():
            await timed(api, 2, call)
        pages: list[float] = []
        apis: dict[str, list[float]] = {name: [] for name in calls}
        page_count = 0
        pids = stack_pids(web.pid)
        database = get_settings().database_url.path.lstrip("/")  # type: ignore[union-attr]
        cpu_pages: dict[str, float] = {}
        cpu_calls: dict[str, dict[str, float]] = {name: {} for name in calls}
        await users[0].post("/_bench/calls/reset")
        for index in range(args.rounds):
            log(f"round {index + 1}/{args.rounds}: the Startsida, then each call alone")
            before = cpu.snapshot(pids, database)
            pages += await timed(users, args.pages, lambda c: c.get("/"))
            page_count += args.users * args.pages
            _add(cpu_pages, cpu.spent(before, cpu.snapshot(pids, database)))
            made = (await users[0].get("/_bench/calls")).json()
            within = made["seconds"]
            made = made["calls"]
            for name, call in calls.items():
                before = cpu.snapshot(pids, database)
                apis[name] += await timed(api, args.pages, call)
                _add(cpu_calls[name], cpu.spent(before, cpu.snapshot(pids, database)))
        slowest = max(apis, key=lambda n: percentile(apis[n], 99))
        # the same calls as the web UI made them for the pages, under the pages' own load
        in_page = {path: figures(values) for path, values in within.items()}
        slowest_in_page = max(in_page, key=lambda n: in_page[n]["p99_ms"])
        result = {
            "unit": unit,
            "users": args.users,
            "customers": args.customers,
            "unconfirmed": args.unconfirmed,
            "absences": args.absent,
            "startsida": figures(pages),
            "calls_per_page": round(sum(made.values()) / page_count, 2),
            "calls": made,
            "apis": {name: figures(values) for name, values in apis.items()},
            "slowest_api": slowest,
            "in_page": in_page,
            "slowest_in_page": slowest_in_page,
            # CPU milliseconds per page and per call alone, by process (the machine's other
            # users are not in these, so they hold under load where the wall times do not)
            "cpu_ms_per_page": _per(cpu_pages, page_count),
            "cpu_ms_per_call_alone": {
                name: _per(spent, args.users * args.pages * args.rounds)
                for name, spent in cpu_calls.items()
            },
            "load_average": [round(x, 2) for x in os.getloadavg()],
        }
        result["p99_ratio_in_page"] = round(
            result["startsida"]["p99_ms"] / in_page[slowest_in_page]["p99_ms"], 2
        )
        result["p99_ratio"] = round(
            result["startsida"]["p99_ms"] / result["apis"][slowest]["p99_ms"], 2
        )
        for client in users + api:
            await client.aclose()
        return result
    finally:
        web.terminate()
        await web.wait()


def _add(total: dict[str, float], spent: dict[str, float]) -> None:
    for name, seconds in spent.items():
        total[name] = total.get(name, 0.0) + seconds


def _per(spent: dict[str, float], count: int) -> dict[str, float]:
    per = {name: round(seconds * 1000 / count, 2) for name, seconds in spent.items()}
    per["services and database"] = round(
        sum(v for k, v in per.items() if k not in ("bench process", "rabbitmq")), 2
    )
    return per


def table(result: dict) -> str:
    rows = [
        "| what | n | p50 ms | p99 ms |",
        "|---|---:|---:|---:|",
        f"| Startsida ({result['calls_per_page']} API calls per page) | "
        f"{result['startsida']['n']} | {result['startsida']['p50_ms']} | "
        f"{result['startsida']['p99_ms']} |",
    ]
    for name, values in result["apis"].items():
        rows.append(f"| {name} alone | {values['n']} | {values['p50_ms']} | {values['p99_ms']} |")
    for name, values in result["in_page"].items():
        rows.append(
            f"| {name} as the pages made it | {values['n']} | {values['p50_ms']} | "
            f"{values['p99_ms']} |"
        )
    rows.append("\nCPU ms per page or call, by process: " + json.dumps(result["cpu_ms_per_page"]))
    for name, per in result["cpu_ms_per_call_alone"].items():
        rows.append(f"  {name} alone: {json.dumps(per)}")
    rows.append(
        f"\np99 ratio Startsida / slowest call alone ({result['slowest_api']}): "
        f"{result['p99_ratio']}; / slowest call as the pages made it "
        f"({result['slowest_in_page']}): {result['p99_ratio_in_page']} (goal ≤ 1.5)"
    )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--unconfirmed", type=int, default=500)
    parser.add_argument("--absent", type=int, default=20)
    parser.add_argument("--pages", type=int, default=10, help="pages per user per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    started = None if _healthy(ORDERS) else start_stack(ORDERS)
    try:
        result = asyncio.run(bench(args))
    finally:
        if started:
            stop_stack(started)
    print(json.dumps(result, indent=2) if args.json else table(result))


if __name__ == "__main__":
    main()
