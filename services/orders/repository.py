"""All SQL of the orders service. Functions never commit: the caller owns the transaction.
They return typed rows."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date, datetime
from typing import Any

import asyncpg

from services.common.errors import Conflict
from services.common.rows import Row


@dataclasses.dataclass(frozen=True, slots=True)
class UnitRow(Row):
    id: str
    name: str


@dataclasses.dataclass(frozen=True, slots=True)
class CustomerRow(Row):
    id: uuid.UUID
    customer_number: str
    personnummer: str  # 12 digits
    first_name: str
    last_name: str


@dataclasses.dataclass(frozen=True, slots=True)
class OrderRow(Row):
    """An order with its customer, its unit's name and its execution (None before one)."""

    id: uuid.UUID
    customer_id: uuid.UUID
    customer_number: str
    first_name: str
    last_name: str
    personnummer: str
    unit_id: str
    unit_name: str
    service: str
    decision_date: date
    planned_start_date: date | None
    text: str
    parts: dict[str, Any] | None  # the parts as posted (schemas.PartsIn), None before them
    status: str
    withdrawn_reason: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    execution_id: uuid.UUID | None
    start_date: date | None
    end_date: date | None
    end_reason: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class OrderChange(Row):
    """An order whose status changed (a withdrawal): whose order, at which unit."""

    customer_id: uuid.UUID
    unit_id: str


@dataclasses.dataclass(frozen=True, slots=True)
class ConfirmedOrder(OrderChange):
    """An order confirmed: whose order, at which unit, of which service."""

    service: str


@dataclasses.dataclass(frozen=True, slots=True)
class OrderState(Row):
    """The order's status with its execution (None before one), for idempotent activities."""

    status: str
    customer_id: uuid.UUID
    execution_id: uuid.UUID | None
    start_date: date | None
    end_date: date | None


@dataclasses.dataclass(frozen=True, slots=True)
class StartedExecution(Row):
    id: uuid.UUID
    customer_id: uuid.UUID
    unit_id: str
    start_date: date


@dataclasses.dataclass(frozen=True, slots=True)
class EndedExecution(StartedExecution):
    end_date: date


@dataclasses.dataclass(frozen=True, slots=True)
class ExecutionRow(Row):
    id: uuid.UUID
    order_id: uuid.UUID
    customer_id: uuid.UUID
    customer_number: str
    unit_id: str
    service: str
    start_date: date
    end_date: date | None
    end_reason: str | None
    status: str


_ORDER_COLUMNS = """
    o.id, o.customer_id, c.customer_number, c.first_name, c.last_name, c.personnummer,
    o.unit_id, u.name AS unit_name, o.service, o.decision_date, o.planned_start_date, o.text,
    o.parts, o.status, o.withdrawn_reason, o.created_by, o.created_at, o.updated_at,
    e.id AS execution_id, e.start_date, e.end_date, e.end_reason
"""
_ORDER_FROM = """
    FROM orders.orders o
    JOIN orders.customers c ON c.id = o.customer_id
    JOIN orders.units u ON u.id = o.unit_id
    LEFT JOIN orders.executions e ON e.order_id = o.id
"""
# the orders a list's WHERE chooses from: every order has its customer (a foreign key), so
# the left join changes nothing but can be left out when no search names a customer column
_MATCHING_FROM = """
    FROM orders.orders o LEFT JOIN orders.customers c ON c.id = o.customer_id
"""
_EXECUTION_COLUMNS = """
    e.id, e.order_id, e.customer_id, c.customer_number, e.unit_id, e.service, e.start_date,
    e.end_date, e.end_reason, e.status
"""


# --- units ---------------------------------------------------------------------------------


async def insert_unit(conn: asyncpg.Connection, *, id: str, name: str) -> UnitRow:
    try:
        record = await conn.fetchrow(
            "INSERT INTO orders.units (id, name) VALUES ($1, $2) RETURNING id, name", id, name
        )
    except asyncpg.UniqueViolationError as exc:
        raise Conflict(f"a unit with id {id!r} exists already", code="unit_exists") from exc
    return UnitRow.of(record)


async def list_units(conn: asyncpg.Connection) -> list[UnitRow]:
    return UnitRow.many(await conn.fetch("SELECT id, name FROM orders.units ORDER BY name"))


async def unit_exists(conn: asyncpg.Connection, *, id: str) -> bool:
    return bool(await conn.fetchval("SELECT true FROM orders.units WHERE id = $1", id))


# --- customers -----------------------------------------------------------------------------

_CUSTOMER_COLUMNS = "c.id, c.customer_number, c.personnummer, c.first_name, c.last_name"
# A provider (unit $2) sees a customer while an order of theirs at the unit is unconfirmed,
# confirmed or ongoing, and after its execution ended while the end date is on or after
# {since} (a date parameter: today less the setting customer_visible_after_end); a
# withdrawn order shows nothing. Other roles ($2 NULL) see every customer.
_VISIBLE_TO_UNIT = """($2::text IS NULL OR EXISTS (
    SELECT 1 FROM orders.orders o LEFT JOIN orders.executions e ON e.order_id = o.id
    WHERE o.customer_id = c.id AND o.unit_id = $2
      AND (o.status IN ('unconfirmed', 'confirmed', 'ongoing')
           OR (o.status = 'ended' AND e.end_date >= {since}::date))))"""


async def insert_customer(
    conn: asyncpg.Connection, *, id: uuid.UUID, personnummer: str, first_name: str, last_name: str
) -> CustomerRow:
    try:
        record = await conn.fetchrow(
            f"""INSERT INTO orders.customers AS c (id, personnummer, first_name, last_name)
                VALUES ($1, $2, $3, $4) RETURNING {_CUSTOMER_COLUMNS}""",
            id,
            personnummer,
            first_name,
            last_name,
        )
    except asyncpg.UniqueViolationError as exc:
        raise Conflict(
            "a customer with this personnummer exists already", code="customer_exists"
        ) from exc
    return CustomerRow.of(record)


async def get_customer(
    conn: asyncpg.Connection,
    *,
    id: uuid.UUID,
    unit: str | None,
    visible_since: date | None = None,
) -> CustomerRow | None:
    """The customer, if the unit may see them (every customer for `unit=None`); without
    `visible_since`, a unit sees no customer whose stay there has ended."""
    return CustomerRow.maybe(
        await conn.fetchrow(
            f"SELECT {_CUSTOMER_COLUMNS} FROM orders.customers c "
            f"WHERE c.id = $1 AND {_VISIBLE_TO_UNIT.format(since='$3')}",
            id,
            unit,
            visible_since,
        )
    )


# a customer by personnummer ($3), customer number or a part of the name ($1), or all
_SEARCHED = """($1::text IS NULL
                   OR c.personnummer = $3
                   OR c.customer_number = $1
                   OR (c.first_name || ' ' || c.last_name) ILIKE '%' || $1 || '%'
                   OR (c.last_name || ' ' || c.first_name) ILIKE '%' || $1 || '%')"""


async def search_customers(
    conn: asyncpg.Connection,
    *,
    text: str | None,
    personnummer: str | None,
    unit: str | None,
    ids: list[uuid.UUID] | None = None,
    limit: int = 100,
    visible_since: date | None = None,
    after: tuple[Any, ...] | None = None,
) -> list[CustomerRow]:
    """Customers by personnummer, customer number or a part of the name, or by their ids,
    among those the unit may see (as get_customer); `after` a sort key (CUSTOMER_ORDER),
    those after it."""
    last_name, first_name, number, id = after or (None, None, None, None)
    # A search finds its few customers by their indexes (trigrams, personnummer, customer
    # number), then sorts them. Without the fence (OFFSET 0) the planner may walk the keyset
    # index in name order and test every customer against the search, to stop at the page.
    customers = (
        "orders.customers c"
        if text is None
        else f"(SELECT * FROM orders.customers c WHERE {_SEARCHED} OFFSET 0) c"
    )
    records = await conn.fetch(
        f"""SELECT {_CUSTOMER_COLUMNS} FROM {customers}
            WHERE {_VISIBLE_TO_UNIT.format(since="$6")}
              AND ($7::text IS NULL
                   OR (c.last_name, c.first_name, c.customer_number, c.id)
                      > ($7, $8::text, $9::text, $10::uuid))
              AND ($5::uuid[] IS NULL OR c.id = ANY($5))
              AND {_SEARCHED}
            ORDER BY c.last_name, c.first_name, c.customer_number, c.id
            LIMIT $4""",
        text,
        unit,
        personnummer,
        limit,
        ids,
        visible_since,
        last_name,
        first_name,
        number,
        id,
    )
    return CustomerRow.many(records)


# --- orders --------------------------------------------------------------------------------


async def insert_order(
    conn: asyncpg.Connection,
    *,
    id: uuid.UUID,
    customer_id: uuid.UUID,
    unit_id: str,
    service: str,
    decision_date: date,
    planned_start_date: date | None,
    text: str,
    parts: dict[str, Any] | None,
    created_by: str,
) -> None:
    await conn.execute(
        """INSERT INTO orders.orders (id, customer_id, unit_id, service, decision_date,
                                      planned_start_date, text, parts, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
        id,
        customer_id,
        unit_id,
        service,
        decision_date,
        planned_start_date,
        text,
        parts,
        created_by,
    )


async def get_order(
    conn: asyncpg.Connection, *, id: uuid.UUID, unit: str | None
) -> OrderRow | None:
    return OrderRow.maybe(
        await conn.fetchrow(
            f"SELECT {_ORDER_COLUMNS} {_ORDER_FROM} "
            "WHERE o.id = $1 AND ($2::text IS NULL OR o.unit_id = $2)",
            id,
            unit,
        )
    )


async def list_orders(
    conn: asyncpg.Connection,
    *,
    statuses: list[str] | None,
    text: str | None,
    personnummer: str | None,
    unit: str | None,
    limit: int = 500,
    offset: int = 0,
    withdrawn: bool = True,
    after: tuple[Any, ...] | None = None,
) -> tuple[list[OrderRow], int]:
    """One page of the orders that match, and how many match in all; `withdrawn=False`
    leaves withdrawn orders out (a unit no longer sees their customer, issue 14); `after`
    a sort key (ORDER_ORDER), the page after it."""
    decided, created, id = after or (None, None, None)
    where = """WHERE ($1::text[] IS NULL OR o.status = ANY($1))
              AND ($2::text IS NULL OR o.unit_id = $2)
              AND ($5::bool OR o.status <> 'withdrawn')
              AND ($3::text IS NULL
                   OR c.personnummer = $4
                   OR c.customer_number = $3
                   OR (c.first_name || ' ' || c.last_name) ILIKE '%' || $3 || '%'
                   OR (c.last_name || ' ' || c.first_name) ILIKE '%' || $3 || '%')"""
    # The matching orders are found and counted on the orders' own index (the customer is
    # joined only for a search: a left join to a unique key nobody reads is left out), and
    # only the page's orders are joined to their customer, unit and execution: a unit's
    # 4 000 confirmed orders are counted, 25 are read.
    records = await conn.fetch(
        f"""WITH matching AS MATERIALIZED (
                SELECT o.id, o.decision_date, o.created_at {_MATCHING_FROM} {where})
            SELECT {_ORDER_COLUMNS}, (SELECT count(*) FROM matching) AS matching {_ORDER_FROM}
            WHERE o.id IN (SELECT id FROM matching
                           WHERE $8::date IS NULL
                              OR (decision_date, created_at, id) > ($8, $9::timestamptz, $10::uuid)
                           ORDER BY decision_date, created_at, id LIMIT $6 OFFSET $7)
            ORDER BY o.decision_date, o.created_at, o.id""",
        statuses,
        unit,
        text,
        personnummer,
        withdrawn,
        limit,
        offset,
        decided,
        created,
        id,
    )
    if records:  # counted before the cursor's condition: every match, on any page
        total = int(records[0]["matching"])
    elif offset or after is not None:  # a page past the last: count them apart
        total = int(
            await conn.fetchval(
                f"SELECT count(*) {_MATCHING_FROM} {where}",
                statuses,
                unit,
                text,
                personnummer,
                withdrawn,
            )
        )
    else:
        total = 0
    return OrderRow.many(records), total


async def unexecuted_decisions(
    conn: asyncpg.Connection,
    *,
    decided_on_or_before: date,
    limit: int,
    after: tuple[Any, ...] | None = None,
) -> list[OrderRow]:
    """Orders still unconfirmed whose decision is older than the IVO limit; `after` a sort
    key (ORDER_ORDER), the page after it."""
    decided, created, id = after or (None, None, None)
    records = await conn.fetch(
        f"""SELECT {_ORDER_COLUMNS} {_ORDER_FROM}
            WHERE o.status = 'unconfirmed' AND o.decision_date <= $1
              AND ($3::date IS NULL OR (o.decision_date, o.created_at, o.id)
                                       > ($3, $4::timestamptz, $5::uuid))
            ORDER BY o.decision_date, o.created_at, o.id
            LIMIT $2""",
        decided_on_or_before,
        limit,
        decided,
        created,
        id,
    )
    return OrderRow.many(records)


async def confirm_order(
    conn: asyncpg.Connection,
    *,
    order_id: uuid.UUID,
    execution_id: uuid.UUID,
    start_date: date,
    confirmed_by: str,
) -> ConfirmedOrder | None:
    """Mark an unconfirmed order confirmed and open its execution; None if it was not."""
    order = await conn.fetchrow(
        """UPDATE orders.orders SET status = 'confirmed', updated_at = now()
           WHERE id = $1 AND status = 'unconfirmed'
           RETURNING customer_id, unit_id, service""",
        order_id,
    )
    if order is None:
        return None
    await conn.execute(
        """INSERT INTO orders.executions (id, order_id, customer_id, unit_id, service,
                                          start_date, status, confirmed_by)
           VALUES ($1, $2, $3, $4, $5, $6, 'confirmed', $7)""",
        execution_id,
        order_id,
        order["customer_id"],
        order["unit_id"],
        order["service"],
        start_date,
        confirmed_by,
    )
    return ConfirmedOrder.of(order)


async def withdraw_order(
    conn: asyncpg.Connection, *, order_id: uuid.UUID, reason: str
) -> OrderChange | None:
    return OrderChange.maybe(
        await conn.fetchrow(
            """UPDATE orders.orders SET status = 'withdrawn', withdrawn_reason = $2,
                      updated_at = now()
               WHERE id = $1 AND status = 'unconfirmed'
               RETURNING customer_id, unit_id""",
            order_id,
            reason,
        )
    )


async def start_execution(
    conn: asyncpg.Connection, *, order_id: uuid.UUID
) -> StartedExecution | None:
    """Move a confirmed order and its execution to ongoing; None if it was not confirmed."""
    record = await conn.fetchrow(
        """WITH o AS (
               UPDATE orders.orders SET status = 'ongoing', updated_at = now()
               WHERE id = $1 AND status = 'confirmed' RETURNING id)
           UPDATE orders.executions e SET status = 'ongoing'
           FROM o WHERE e.order_id = o.id
           RETURNING e.id, e.customer_id, e.unit_id, e.start_date""",
        order_id,
    )
    return StartedExecution.maybe(record)


async def end_execution(
    conn: asyncpg.Connection, *, order_id: uuid.UUID, end_date: date, reason: str, ended_by: str
) -> EndedExecution | None:
    """End a confirmed or ongoing execution; None if there was none to end."""
    record = await conn.fetchrow(
        """WITH o AS (
               UPDATE orders.orders SET status = 'ended', updated_at = now()
               WHERE id = $1 AND status IN ('confirmed', 'ongoing') RETURNING id)
           UPDATE orders.executions e
              SET status = 'ended', end_date = $2, end_reason = $3, ended_by = $4
           FROM o WHERE e.order_id = o.id
           RETURNING e.id, e.customer_id, e.unit_id, e.start_date, e.end_date""",
        order_id,
        end_date,
        reason,
        ended_by,
    )
    return EndedExecution.maybe(record)


async def order_state(conn: asyncpg.Connection, *, order_id: uuid.UUID) -> OrderState | None:
    """The order's status with its execution, for idempotent activities."""
    return OrderState.maybe(
        await conn.fetchrow(
            """SELECT o.status, o.customer_id, e.id AS execution_id, e.start_date, e.end_date
               FROM orders.orders o LEFT JOIN orders.executions e ON e.order_id = o.id
               WHERE o.id = $1""",
            order_id,
        )
    )


# --- executions ----------------------------------------------------------------------------


async def get_execution(
    conn: asyncpg.Connection, *, id: uuid.UUID, unit: str | None
) -> ExecutionRow | None:
    return ExecutionRow.maybe(
        await conn.fetchrow(
            f"""SELECT {_EXECUTION_COLUMNS} FROM orders.executions e
                JOIN orders.customers c ON c.id = e.customer_id
                WHERE e.id = $1 AND ($2::text IS NULL OR e.unit_id = $2)""",
            id,
            unit,
        )
    )


async def customer_executions(
    conn: asyncpg.Connection, *, customer_id: uuid.UUID, unit: str | None
) -> list[ExecutionRow]:
    records = await conn.fetch(
        f"""SELECT {_EXECUTION_COLUMNS} FROM orders.executions e
            JOIN orders.customers c ON c.id = e.customer_id
            WHERE e.customer_id = $1 AND ($2::text IS NULL OR e.unit_id = $2)
            ORDER BY e.start_date DESC""",
        customer_id,
        unit,
    )
    return ExecutionRow.many(records)
