"""Small steps the billing integration tests share."""

from __future__ import annotations

from datetime import date, timedelta

import asyncpg
import httpx

from services.billing.domain import Period, period_to_bill
from services.common.dates import today_in_stockholm
from tests.integration.absence.helpers import register
from tests.integration.conftest import wait_for
from tests.integration.helpers import new_customer, new_order, new_unit

FOOD = 400_000  # öre: 4 000 kr a month, as Haninge charges
MAXTAXA = 266_000  # öre: 2 660 kr, 2026
TARIFFS = [
    {"kind": "food", "monthly_amount": "4000.00", "valid_from": "2020-01-01"},
    {"kind": "care_max", "monthly_amount": "2660.00", "valid_from": "2020-01-01"},
]


def last_month() -> Period:
    """The latest month that can be billed today."""
    return period_to_bill(today_in_stockholm())


async def new_stay(http: httpx.AsyncClient, as_, pool: asyncpg.Pool, *, start: date) -> dict:
    """A customer who moved into a new unit on `start`, confirmed by that unit's provider;
    returned once billing knows the stay (order.confirmed has been consumed)."""
    admin, caseworker = as_("admin"), as_("caseworker")
    unit = await new_unit(http, admin)
    provider = as_("provider", unit=unit, sub="anna")
    customer = await new_customer(http, caseworker)
    order = await new_order(http, caseworker, customer, unit, start - timedelta(days=3))
    confirmed = await http.post(
        f"/orders/{order['id']}/confirm", json={"start_date": str(start)}, headers=provider
    )
    assert confirmed.status_code == 200, confirmed.text
    known = "SELECT true FROM billing.stays WHERE order_id = $1::uuid"
    await billing_knows(pool, known, order["id"])
    return {"unit": unit, "provider": provider, "customer": customer, "order": confirmed.json()}


async def billing_knows(pool: asyncpg.Pool, query: str, *args: object) -> object:
    """Wait until billing's read model answers `query` (an event has been consumed)."""
    return await wait_for(lambda: pool.fetchval(query, *args))


async def known_customer(pool: asyncpg.Pool, customer_id: str) -> None:
    await billing_knows(pool, "SELECT true FROM billing.customers WHERE id = $1::uuid", customer_id)


async def decide_fee(
    billing: httpx.AsyncClient, as_, pool: asyncpg.Pool, customer_id: str, amount: str, since: date
) -> dict:
    await known_customer(pool, customer_id)
    response = await billing.post(
        "/fee-decisions",
        json={"customer_id": customer_id, "care_monthly_amount": amount, "valid_from": str(since)},
        headers=as_("fee_admin"),
    )
    assert response.status_code == 201, response.text
    return response.json()


async def run_month(billing: httpx.AsyncClient, as_, period: Period) -> dict:
    """POST /billing-runs and wait for the run to complete."""
    started = await billing.post(
        "/billing-runs", json={"period": str(period)}, headers=as_("fee_admin")
    )
    assert started.status_code == 202, started.text
    run = started.json()
    assert run["workflow_id"] == f"billing-run-{period}"

    async def completed() -> dict | None:
        read = await billing.get(f"/billing-runs/{run['id']}", headers=as_("admin"))
        body = read.json()
        assert body["status"] != "failed", body
        return body if body["status"] == "completed" else None

    return await wait_for(completed, timeout=60)


async def invoices_of(billing: httpx.AsyncClient, as_, customer_id: str) -> list[dict]:
    response = await billing.get(
        "/invoices", params={"customer_id": customer_id}, headers=as_("fee_admin")
    )
    assert response.status_code == 200, response.text
    return sorted(response.json(), key=lambda i: (i["period"], i["kind"]))


def ore(kronor: str) -> int:
    """The API's "3333.33" as öre, for sums in the tests."""
    whole, _, cents = kronor.lstrip("-").partition(".")
    value = int(whole) * 100 + int(cents or 0)
    return -value if kronor.startswith("-") else value


def lines_by_kind(invoice: dict) -> dict[tuple[str, str], dict]:
    return {(line["kind"], line["period"]): line for line in invoice["lines"]}


def events_of(events: list[dict], type: str, **data: object):  # type: ignore[no-untyped-def]
    """A predicate for `wait_for`: the events of `type` whose data has these values."""

    async def found() -> list[dict]:
        return [
            e
            for e in events
            if e["type"] == type and all(e["data"].get(k) == v for k, v in data.items())
        ]

    return found


async def absent(
    absence_http: httpx.AsyncClient,
    pool: asyncpg.Pool,
    stay: dict,
    first: date,
    last: date | None,
    *,
    reason: str = "hospital",
) -> dict:
    """Register an absence as the stay's provider, and wait until billing has it."""
    response = await register(
        absence_http, stay["provider"], stay["customer"]["id"], first, last, reason=reason
    )
    assert response.status_code == 201, response.text
    absence = response.json()
    await billing_knows(
        pool, "SELECT true FROM billing.absences WHERE id = $1::uuid", absence["id"]
    )
    return absence


async def end_stay(
    http: httpx.AsyncClient, pool: asyncpg.Pool, stay: dict, last_day: date, reason: str
) -> None:
    """The stay's provider ends it on `last_day`, its last day; returned once billing knows."""
    ended = await http.post(
        f"/executions/{stay['order']['execution_id']}/end",
        json={"end_date": str(last_day), "reason": reason, "confirmed": True},
        headers=stay["provider"],
    )
    assert ended.status_code == 200, ended.text
    known = "SELECT end_date = $2 FROM billing.stays WHERE order_id = $1::uuid"
    await billing_knows(pool, known, stay["order"]["id"], last_day)
