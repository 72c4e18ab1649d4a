"""The orders the bench's lifecycles belong to, written straight into the orders schema (as
`POST /orders` and the confirmations would have left them), and the lifecycles' inputs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import asyncpg

from services.absence.domain import ESCALATE_AFTER_DAYS, REASON_LABELS
from services.orders.domain import luhn_check_digit
from workflows.models import AbsenceEntry, Durations, LifecycleState

UNIT = "bench-worker-unit"


@dataclass(frozen=True)
class Order:
    n: int
    order_id: uuid.UUID
    customer_id: uuid.UUID
    customer_number: str
    execution_id: uuid.UUID | None


def orders(count: int, *, unconfirmed: int) -> list[Order]:
    """The first `unconfirmed` orders wait for a confirmation, the others are stays."""
    return [
        Order(
            n=n,
            order_id=uuid.uuid5(uuid.NAMESPACE_URL, f"bench-worker-order-{n}"),
            customer_id=uuid.uuid5(uuid.NAMESPACE_URL, f"bench-worker-customer-{n}"),
            customer_number=str(700_000 + n),
            execution_id=None
            if n < unconfirmed
            else uuid.uuid5(uuid.NAMESPACE_URL, f"bench-worker-execution-{n}"),
        )
        for n in range(count)
    ]


def _personnummer(n: int) -> str:
    """A test number: born 1925-01-01 plus n days, serial 98x, a valid check digit."""
    born = date(1925, 1, 1) + timedelta(days=n)
    nine = f"{born:%y%m%d}98{n % 10}"
    return f"{born:%Y}{nine[2:]}{luhn_check_digit(nine)}"


async def seed(conn: asyncpg.Connection, rows: list[Order], *, today: date) -> None:
    """The unit, one customer per order, the orders and the stays' executions."""
    stays = [o for o in rows if o.execution_id is not None]
    async with conn.transaction():
        await conn.execute(
            "INSERT INTO orders.units (id, name) VALUES ($1, 'Bench worker unit')", UNIT
        )
        await conn.execute(
            """INSERT INTO orders.customers (id, customer_number, personnummer, first_name,
                                             last_name)
               SELECT id, number, pnr, 'Test', 'Testsson'
               FROM unnest($1::uuid[], $2::text[], $3::text[]) AS c(id, number, pnr)""",
            [o.customer_id for o in rows],
            [o.customer_number for o in rows],
            [_personnummer(o.n) for o in rows],
        )
        await conn.execute(
            """INSERT INTO orders.orders (id, customer_id, unit_id, service, decision_date,
                                          text, status, created_by)
               SELECT id, customer_id, $3, 'sol_boende', $4, 'bench', status, 'bench'
               FROM unnest($1::uuid[], $2::uuid[], $5::text[]) AS o(id, customer_id, status)""",
            [o.order_id for o in rows],
            [o.customer_id for o in rows],
            UNIT,
            today - timedelta(days=400),
            ["unconfirmed" if o.execution_id is None else _status(o.n) for o in rows],
        )
        await conn.execute(
            """INSERT INTO orders.executions (id, order_id, customer_id, unit_id, service,
                                              start_date, status, confirmed_by)
               SELECT id, order_id, customer_id, $4, 'sol_boende', start_date, status, 'bench'
               FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $5::date[], $6::text[])
                    AS e(id, order_id, customer_id, start_date, status)""",
            [o.execution_id for o in stays],
            [o.order_id for o in stays],
            [o.customer_id for o in stays],
            UNIT,
            [_start_date(o.n, today) for o in stays],
            [_status(o.n) for o in stays],
        )


def _status(n: int) -> str:
    """Every other stay has begun (with an open absence); the others begin within 4 weeks."""
    return "ongoing" if n % 2 == 0 else "confirmed"


def _start_date(n: int, today: date) -> date:
    if n % 2 == 0:
        return today - timedelta(days=30 + n % 365)
    return today + timedelta(days=1 + n % 28)


def unconfirmed_state(order: Order, *, today: date, now: datetime) -> dict[str, object]:
    """The arguments of `lifecycle_client.start` for an order sent 3 days ago, a minute
    more for every tenth: its first reminder is due as it starts."""
    return {
        "order_id": order.order_id,
        "customer_id": order.customer_id,
        "customer_number": order.customer_number,
        "unit_id": UNIT,
        "decision_date": today - timedelta(days=4),
        "created_at": now - timedelta(days=3, minutes=1 + order.n % 10),
    }


def stay_state(order: Order, *, today: date, now: datetime) -> LifecycleState:
    """A confirmed stay as its lifecycle holds it after a continue-as-new: begun with an open
    absence (its escalation timer set, 10 to 29 days ahead), or waiting for its start day
    (the start timer set)."""
    started = order.n % 2 == 0
    absences = []
    if started:
        absences.append(
            AbsenceEntry(
                absence_id=uuid.uuid5(uuid.NAMESPACE_URL, f"bench-worker-absence-{order.n}"),
                reason="hospital",
                reason_label=REASON_LABELS["hospital"],
                escalate_after_days=ESCALATE_AFTER_DAYS,
                from_date=today - timedelta(days=1 + order.n % 20),
                revision=1,
            )
        )
    return LifecycleState(
        order_id=order.order_id,
        customer_id=order.customer_id,
        customer_number=order.customer_number,
        unit_id=UNIT,
        decision_date=today - timedelta(days=400),
        created_at=now - timedelta(days=400),
        durations=Durations(),
        status=_status(order.n),
        execution_id=order.execution_id,
        start_date=_start_date(order.n, today),
        absences=absences,
        invoiced_through=(today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
        if started
        else None,
    )
