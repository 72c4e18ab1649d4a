"""Writing the absence service's events (the contracts are in
services/common/contracts/absence.py); the orders events it keeps its stays from are
handled in service.py (STAY_HANDLERS)."""

from __future__ import annotations

import uuid

import asyncpg

from services.absence import domain
from services.absence.repository import AbsenceRow
from services.common import contracts
from services.common.contracts.absence import (
    AbsenceChanged,
    AbsenceRegistered,
    AbsenceRemoved,
    AbsenceUpdated,
)

__all__ = ["AbsenceRegistered", "AbsenceRemoved", "AbsenceUpdated", "emit"]


async def emit(
    conn: asyncpg.Connection, kind: type[AbsenceChanged], absence: AbsenceRow
) -> uuid.UUID:
    """Write an absence event of `kind` into the outbox, in the caller's transaction."""
    event = kind(
        absence_id=absence.id,
        revision=absence.revision,
        customer_id=absence.customer_id,
        unit_id=absence.unit_id,
        order_id=absence.order_id,
        execution_id=absence.execution_id,
        reason=absence.reason,
        reason_label=domain.REASON_LABELS.get(absence.reason),
        from_date=absence.from_date,
        to_date=absence.to_date,
        escalate_after_days=domain.ESCALATE_AFTER_DAYS,
    )
    return await contracts.write(conn, schema="absence", event=event)
