"""The stays read model that absence and billing both keep, fed from the orders events.

One projection, two tables: each service keeps `<schema>.stays` in its own schema
(execution_id, order_id, customer_id, unit_id, start_date, end_date) and subscribes this
module's handlers; what they learn is the same, from the same contracts.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date

import asyncpg

from services.common.bus import Event
from services.common.contracts.orders import ExecutionEnded, OrderConfirmed
from services.common.rows import Row

STAY_EVENTS = (OrderConfirmed.TYPE, ExecutionEnded.TYPE)


@dataclasses.dataclass(frozen=True, slots=True)
class StayFact(Row):
    """What order.confirmed and execution.ended say about a stay."""

    execution_id: uuid.UUID
    order_id: uuid.UUID
    customer_id: uuid.UUID
    unit_id: str
    start_date: date
    end_date: date | None = None


def stay_of(event: Event) -> StayFact:
    """The stay an order.confirmed (its start) or execution.ended (its end) tells of."""
    if event.type == ExecutionEnded.TYPE:
        ended = event.data_as(ExecutionEnded)
        return StayFact(
            execution_id=ended.execution_id,
            order_id=ended.order_id,
            customer_id=ended.customer_id,
            unit_id=ended.unit_id,
            start_date=ended.start_date,
            end_date=ended.end_date,
        )
    confirmed = event.data_as(OrderConfirmed)
    return StayFact(
        execution_id=confirmed.execution_id,
        order_id=confirmed.order_id,
        customer_id=confirmed.customer_id,
        unit_id=confirmed.unit_id,
        start_date=confirmed.start_date,
    )


async def record(conn: asyncpg.Connection, *, schema: str, stay: StayFact) -> date | None:
    """Learn a stay or its end in `schema`.stays, in whichever order the events come.

    Returns the end date known before (None for a new or open stay).
    """
    before = await conn.fetchval(
        f"SELECT end_date FROM {schema}.stays WHERE execution_id = $1 FOR UPDATE",
        stay.execution_id,
    )
    await conn.execute(
        f"""INSERT INTO {schema}.stays
                (execution_id, order_id, customer_id, unit_id, start_date, end_date)
            VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (execution_id) DO UPDATE
               SET end_date = COALESCE(EXCLUDED.end_date, {schema}.stays.end_date)""",
        stay.execution_id,
        stay.order_id,
        stay.customer_id,
        stay.unit_id,
        stay.start_date,
        stay.end_date,
    )
    return before
