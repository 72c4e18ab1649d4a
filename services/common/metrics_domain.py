"""The operators' domain gauges, read from a service's own schema each time Prometheus
scrapes its `/metrics` (create_app calls `measure`): unconfirmed orders by age, reminders
sent, decisions past the IVO limit (orders), the billing runs' progress and whether the
month's run is overdue (billing). Counts only: no row, id or name is ever a label."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta

import asyncpg
from prometheus_client import Gauge

from services.common.dates import STOCKHOLM
from services.common.settings import Settings

log = logging.getLogger(__name__)

# an unconfirmed order's age since it was sent, in buckets bounded by the reminders' and
# IVO's default times (3 d, 7 d, 90 d); the SQL of measure_orders names the same
AGES = ("under_3d", "3d_7d", "7d_30d", "30d_90d", "over_90d")
BILLING_DUE = time(6, 0)  # the month's run is to be done by 06:00 on the 1st, Stockholm
RECENT_RUNS = 3  # the billing runs shown: the periods billed last

UNCONFIRMED = Gauge(
    "lifecare_unconfirmed_orders",
    "Orders sent and not yet confirmed nor withdrawn, by their age since they were sent",
    ["age"],
)
REMINDERS = Gauge(
    "lifecare_reminders_sent",
    "Reminders about unconfirmed orders sent to units' mailboxes, all time (orders' outbox)",
)
PAST_IVO = Gauge(
    "lifecare_decisions_past_ivo_limit",
    "Unconfirmed orders whose decision is older than the IVO limit (ej verkställda beslut)",
)
RUN_INVOICES = Gauge(
    "lifecare_billing_run_invoices",
    "Invoices a billing run has written so far, by period and invoice status",
    ["period", "status"],
)
RUN_COMPLETED = Gauge(
    "lifecare_billing_run_completed",
    "1 when the billing run of the period has completed, 0 while it runs or failed",
    ["period"],
)
RUN_OVERDUE = Gauge(
    "lifecare_billing_run_overdue",
    "1 from 06:00 (Stockholm) on the 1st while the previous month's run has not completed",
)

Measure = Callable[[asyncpg.Connection, Settings], Awaitable[None]]


async def measure_orders(conn: asyncpg.Connection, settings: Settings) -> None:
    """Unconfirmed orders by age, reminders sent, decisions past the IVO limit."""
    by_age = await conn.fetch(
        """SELECT CASE WHEN created_at > now() - interval '3 days' THEN 'under_3d'
                       WHEN created_at > now() - interval '7 days' THEN '3d_7d'
                       WHEN created_at > now() - interval '30 days' THEN '7d_30d'
                       WHEN created_at > now() - interval '90 days' THEN '30d_90d'
                       ELSE 'over_90d' END AS age,
                  count(*) AS orders
             FROM orders.orders WHERE status = 'unconfirmed' GROUP BY 1"""
    )
    counted = {row["age"]: row["orders"] for row in by_age}
    for age in AGES:
        UNCONFIRMED.labels(age).set(counted.get(age, 0))
    PAST_IVO.set(
        await conn.fetchval(
            """SELECT count(*) FROM orders.orders
                WHERE status = 'unconfirmed'
                  AND decision_date::timestamp + $1::interval
                      <= now() AT TIME ZONE 'Europe/Stockholm'""",
            settings.ivo_after,
        )
    )
    # by the partial index outbox_reminders (the orders migration 0002): the predicate
    # must stay the index's
    REMINDERS.set(
        await conn.fetchval(
            """SELECT count(*) FROM orders.outbox
                WHERE type = 'notification.requested' AND data->>'kind' = 'order.reminder'"""
        )
    )


async def measure_billing(conn: asyncpg.Connection, settings: Settings) -> None:
    """The last periods' runs: invoices written by status, completed or not, and overdue."""
    runs = await conn.fetch(
        """SELECT * FROM (SELECT DISTINCT ON (period) period, status, issued, held, started_at
                            FROM billing.billing_runs ORDER BY period, started_at DESC) latest
            ORDER BY started_at DESC LIMIT $1""",
        RECENT_RUNS,
    )
    RUN_INVOICES.clear()  # the runs shown: the periods billed last
    RUN_COMPLETED.clear()
    for run in runs:
        period = run["period"].strftime("%Y-%m")
        RUN_INVOICES.labels(period, "issued").set(run["issued"])
        RUN_INVOICES.labels(period, "held").set(run["held"])
        RUN_COMPLETED.labels(period).set(1 if run["status"] == "completed" else 0)
    now = datetime.now(STOCKHOLM)
    done = await conn.fetchval(
        """SELECT EXISTS (SELECT FROM billing.billing_runs
                           WHERE period = $1 AND status = 'completed')""",
        previous_period(now.date()),
    )
    RUN_OVERDUE.set(1 if billing_overdue(now, completed=done) else 0)


def previous_period(today: date) -> date:
    """The first day of the month before `today`'s: the period billed this month."""
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def billing_overdue(now: datetime, *, completed: bool) -> bool:
    """Whether the previous month's run is late: not completed, and past 06:00 on the 1st."""
    local = now.astimezone(STOCKHOLM)
    return not completed and (local.day > 1 or local.time() >= BILLING_DUE)


MEASURES: dict[str, Measure] = {"orders": measure_orders, "billing": measure_billing}


async def measure(service: str, pool: asyncpg.Pool, settings: Settings) -> None:
    """Set the service's domain gauges from its schema; a database that does not answer
    leaves them as they were (the scrape still answers, `up` stays 1)."""
    reader = MEASURES.get(service)
    if reader is None:
        return
    try:
        async with pool.acquire(timeout=2) as conn:
            await reader(conn, settings)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        log.warning("domain gauges of %s not read: %s", service, type(exc).__name__)
