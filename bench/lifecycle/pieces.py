"""bench/lifecycle/pieces: time the pieces of create + confirm one by one, to see what dominates.

    .venv/bin/python -m bench.lifecycle.pieces [--orders 500] [--concurrency 20] [--json]

Against the running stack (it does not start one). Each piece runs C concurrent clients over
N items, one piece after the other:

* `health`: GET /health: HTTP, uvicorn and one pooled `SELECT 1`;
* `create`: POST /orders (the orders used by the pieces below);
* `read`: GET /orders/{id} as the unit's provider: what the API does twice around a confirm
  (one transaction with a read and an audit row);
* `confirm_direct`: the `confirm` update sent straight to the OrderLifecycle workflow with
  the Temporal client, no API, on half of the orders;
* `confirm_api`: POST /orders/{id}/confirm on the other half.

`confirm_api - confirm_direct` is the API's own share of a confirm.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
import uuid
from datetime import timedelta

if __name__ == "__main__" and not __package__:  # run as `python bench/lifecycle/pieces.py`
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(__file__))) or ".")

import httpx
from temporalio.client import Client

from bench.lifecycle.run import CONFIRMED, Phase, log, prepare, run_clients
from services.common import temporal
from services.common.auth import issue_token
from services.common.dates import today_in_stockholm
from services.common.settings import get_settings
from workflows.models import Actor, ChangeResult, ConfirmRequest, lifecycle_id


class Http:
    """One httpx client per concurrent client; `call` does one request and times it."""

    def __init__(self, base_url: str, call) -> None:  # type: ignore[no-untyped-def]
        self.base_url = base_url
        self.call = call

    async def open(self, stack: contextlib.AsyncExitStack, _index: int) -> httpx.AsyncClient:
        return await stack.enter_async_context(
            httpx.AsyncClient(base_url=self.base_url, timeout=60)
        )

    async def do(self, http: httpx.AsyncClient, item: object, phase: Phase) -> None:
        t0 = time.perf_counter()
        await self.call(http, item)
        phase.add(phase.name, time.perf_counter() - t0)


class DirectConfirm:
    """The `confirm` update straight to the workflow, as the API would send it."""

    def __init__(self, client: Client, start_date, unit_id: str) -> None:  # type: ignore[no-untyped-def]
        self.client = client
        self.start_date = start_date
        self.unit_id = unit_id

    async def open(self, _stack: contextlib.AsyncExitStack, _index: int) -> Client:
        return self.client

    async def do(self, client: Client, order_id: str, phase: Phase) -> None:
        t0 = time.perf_counter()
        await client.get_workflow_handle(lifecycle_id(order_id)).execute_update(
            "confirm",
            ConfirmRequest(
                start_date=self.start_date,
                actor=Actor(
                    sub="bench-provider",
                    role="provider",
                    unit=self.unit_id,
                    request_id=str(uuid.uuid4()),
                ),
            ),
            result_type=ChangeResult,
        )
        phase.add(phase.name, time.perf_counter() - t0)


async def pieces(args: argparse.Namespace) -> dict:
    settings = get_settings()
    run_id = time.strftime("%Y%m%d%H%M%S") + f"-p{os.getpid() % 10000:04d}"
    unit_id = f"bench-{run_id}"
    admin = issue_token(settings, sub="bench-admin", name="Bench Admin", role="admin")
    caseworker = issue_token(
        settings, sub="bench-caseworker", name="Bench Caseworker", role="caseworker"
    )
    provider = issue_token(
        settings, sub="bench-provider", name="Bench Provider", role="provider", unit=unit_id
    )
    as_caseworker = {"Authorization": f"Bearer {caseworker}"}
    as_provider = {"Authorization": f"Bearer {provider}"}
    n, c = args.orders, args.concurrency
    customers = await prepare(args.url, admin, caseworker, unit_id, n, c)
    today = today_in_stockholm()
    start_date = today + timedelta(days=args.start_in_days)
    order_ids: list[str] = []

    async def health(http: httpx.AsyncClient, _item: object) -> None:
        (await http.get("/health")).raise_for_status()

    async def create(http: httpx.AsyncClient, customer_id: object) -> None:
        response = await http.post(
            "/orders",
            headers=as_caseworker,
            json={
                "customer_id": customer_id,
                "unit_id": unit_id,
                "service": "sol_boende",
                "decision_date": str(today - timedelta(days=7)),
                "text": "Benchmark (pieces).",
            },
        )
        if response.status_code != 201:
            raise RuntimeError(f"create {response.status_code}: {response.text[:200]}")
        order_ids.append(response.json()["id"])

    async def read(http: httpx.AsyncClient, order_id: object) -> None:
        (await http.get(f"/orders/{order_id}", headers=as_provider)).raise_for_status()

    async def confirm(http: httpx.AsyncClient, order_id: object) -> None:
        response = await http.post(
            f"/orders/{order_id}/confirm", headers=as_provider, json={"start_date": str(start_date)}
        )
        if response.status_code != 200 or response.json()["status"] not in CONFIRMED:
            raise RuntimeError(f"confirm {response.status_code}: {response.text[:200]}")

    client = await temporal.connect(settings)  # payloads encrypted, as the services do
    results = {}

    async def piece(name: str, items: list, work) -> None:  # type: ignore[no-untyped-def]
        phase = Phase(name)
        log(f"{name} starts")
        await run_clients(items, c, work, phase)
        log(f"{name} done")
        results[name] = phase.summary()

    await piece("health", list(range(n)), Http(args.url, health))
    await piece("create", customers, Http(args.url, create))
    await piece("read", list(order_ids), Http(args.url, read))
    half = len(order_ids) // 2
    await piece("confirm_direct", order_ids[:half], DirectConfirm(client, start_date, unit_id))
    await piece("confirm_api", order_ids[half:], Http(args.url, confirm))
    return {
        "run_id": run_id,
        "orders": n,
        "concurrency": c,
        "start_in_days": args.start_in_days,
        "pieces": results,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="bench.lifecycle.pieces",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--start-in-days", type=int, default=0)
    parser.add_argument("--url", default="http://127.0.0.1:8001")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = asyncio.run(pieces(args))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{'piece':16} {'n':>5} {'err':>4} {'items/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
        for name, s in result["pieces"].items():
            call = s["calls"].get(name, {"n": 0, "p50_ms": float("nan"), "p99_ms": float("nan")})
            print(
                f"{name:16} {call['n']:>5} {s['errors']:>4} {s['rate_per_s']:>8.1f} "
                f"{call['p50_ms']:>8.1f} {call['p99_ms']:>8.1f}"
            )
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
