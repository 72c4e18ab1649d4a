"""Events the orders service publishes, and the shape of their data."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import asyncpg

from services.common.bus import add_to_outbox

UNIT_CREATED = "unit.created"
CUSTOMER_CREATED = "customer.created"
ORDER_CREATED = "order.created"
ORDER_CONFIRMED = "order.confirmed"
ORDER_WITHDRAWN = "order.withdrawn"
EXECUTION_STARTED = "execution.started"
EXECUTION_ENDED = "execution.ended"
NOTIFICATION_REQUESTED = "notification.requested"


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return {
        key: str(value) if isinstance(value, uuid.UUID | date) else value
        for key, value in data.items()
    }


async def emit(conn: asyncpg.Connection, type: str, **data: Any) -> uuid.UUID:
    """Write an orders event into the outbox, in the caller's transaction."""
    return await add_to_outbox(conn, schema="orders", type=type, data=_jsonable(data))
