"""Events the absence service publishes, and the orders events it keeps its stays from."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import asyncpg
from pydantic import BaseModel

from services.absence import repository
from services.absence.domain import Reason
from services.common.bus import Event, Handler, add_to_outbox

ABSENCE_REGISTERED = "absence.registered"
ABSENCE_UPDATED = "absence.updated"
ABSENCE_REMOVED = "absence.removed"
ABSENCE_EVENTS = (ABSENCE_REGISTERED, ABSENCE_UPDATED, ABSENCE_REMOVED)
# published by the order's lifecycle (through the orders outbox), not by this service
ABSENCE_ESCALATED = "absence.escalated"

ORDER_CONFIRMED = "order.confirmed"
EXECUTION_ENDED = "execution.ended"


class AbsenceChanged(BaseModel):
    """The data of every absence.* event: enough for billing and to find the lifecycle.

    No description and no names: the free text stays in the absence service.
    """

    absence_id: uuid.UUID
    revision: int  # grows with each change: a consumer drops an older one arriving late
    customer_id: uuid.UUID
    unit_id: str
    order_id: uuid.UUID
    execution_id: uuid.UUID
    reason: Reason
    from_date: date
    to_date: date | None


async def emit(conn: asyncpg.Connection, type: str, absence: dict[str, Any]) -> uuid.UUID:
    """Write an absence event into the outbox, in the caller's transaction."""
    data = AbsenceChanged(absence_id=absence["id"], **absence)
    return await add_to_outbox(conn, schema="absence", type=type, data=data.model_dump(mode="json"))


# --- the stays, from the orders service's events -------------------------------------------


class _StayEvent(BaseModel):
    """What order.confirmed and execution.ended both say about a stay."""

    execution_id: uuid.UUID
    order_id: uuid.UUID
    customer_id: uuid.UUID
    unit_id: str
    start_date: date
    end_date: date | None = None


async def on_stay_event(conn: asyncpg.Connection, event: Event) -> None:
    """A stay began (order.confirmed) or ended (execution.ended): keep it in the read model."""
    stay = event.data_as(_StayEvent)
    await repository.record_stay(conn, **stay.model_dump())


STAY_HANDLERS: dict[str, Handler] = {ORDER_CONFIRMED: on_stay_event, EXECUTION_ENDED: on_stay_event}
