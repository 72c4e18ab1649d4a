"""Writing the orders service's events (their contracts: services/common/contracts/orders.py)."""

from __future__ import annotations

import uuid

import asyncpg

from services.common import contracts
from services.common.contracts import Contract


async def emit(
    conn: asyncpg.Connection, event: Contract, *, event_id: uuid.UUID | None = None
) -> uuid.UUID:
    """Write an event into the orders outbox, in the caller's transaction."""
    return await contracts.write(conn, schema="orders", event=event, event_id=event_id)
