"""All SQL of the absence service. Functions never commit: the caller owns the transaction.
They return typed rows."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date, datetime
from typing import Any

import asyncpg

from services.absence import domain
from services.common.rows import Row


@dataclasses.dataclass(frozen=True, slots=True)
class AbsenceRow(Row):
    """An absence with its stay's end, its last day, its last change and whether a fee
    administrator handled that change. Removed ones only where a function says so."""

    id: uuid.UUID
    customer_id: uuid.UUID
    unit_id: str
    order_id: uuid.UUID
    execution_id: uuid.UUID
    reason: str
    description: str
    from_date: date
    to_date: date | None
    revision: int
    registered_by: str
    registered_at: datetime
    updated_by: str | None
    updated_at: datetime | None
    stay_end_date: date | None
    last_day: date | None  # to_date, or the stay's end for an absence left open
    last_change: str  # domain.Change: registered, ended, changed or removed
    changed_at: datetime
    previous_to_date: date | None  # the last day before the last change
    removed_at: datetime | None
    handled_revision: int | None  # the revision a fee administrator marked handled
    handled_by: str | None
    handled_at: datetime | None


# LEAST skips NULLs: the absence's last day, or its stay's end for an open absence
# (domain.last_day); NULL while both are open.
_LAST_DAY = "LEAST(a.to_date, s.end_date)"
_ABSENCE_COLUMNS = f"""
    a.id, a.customer_id, a.unit_id, a.order_id, a.execution_id, a.reason, a.description,
    a.from_date, a.to_date, a.revision, a.registered_by, a.registered_at, a.updated_by,
    a.updated_at, s.end_date AS stay_end_date, {_LAST_DAY} AS last_day, a.last_change,
    a.changed_at, a.previous_to_date, a.removed_at, a.handled_revision, a.handled_by,
    a.handled_at
"""
# a change no fee administrator has marked handled yet (manual 5.2, 5.3)
_UNHANDLED = "a.handled_revision IS DISTINCT FROM a.revision"
_ABSENCE_FROM = """
    FROM absence.absences a JOIN absence.stays s ON s.execution_id = a.execution_id
"""


# --- the read model of stays ---------------------------------------------------------------


async def stays(
    conn: asyncpg.Connection, *, customer_id: uuid.UUID, unit: str
) -> list[domain.Stay]:
    """The customer's stays at one unit."""
    records = await conn.fetch(
        """SELECT execution_id, order_id, unit_id, start_date, end_date FROM absence.stays
           WHERE customer_id = $1 AND unit_id = $2 ORDER BY start_date""",
        customer_id,
        unit,
    )
    return [domain.Stay(**record) for record in records]


# --- absences ------------------------------------------------------------------------------


async def lock_customer(conn: asyncpg.Connection, *, customer_id: uuid.UUID) -> None:
    """Serialise changes to one customer's absences until the transaction ends (overlaps)."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('absence:' || $1::uuid::text, 0))",
        customer_id,
    )


async def other_absences(
    conn: asyncpg.Connection, *, customer_id: uuid.UUID, excluding: uuid.UUID | None
) -> list[domain.Absence]:
    """The customer's absences at every unit, removed ones and `excluding` left out."""
    records = await conn.fetch(
        f"""SELECT a.id, a.from_date, a.to_date, s.end_date AS stay_end {_ABSENCE_FROM}
            WHERE a.customer_id = $1 AND a.removed_at IS NULL
              AND ($2::uuid IS NULL OR a.id <> $2)""",
        customer_id,
        excluding,
    )
    return [domain.Absence(**record) for record in records]


async def absences_of_stay(
    conn: asyncpg.Connection, *, execution_id: uuid.UUID
) -> list[domain.Absence]:
    """The stay's absences that are not removed."""
    records = await conn.fetch(
        f"""SELECT a.id, a.from_date, a.to_date, s.end_date AS stay_end {_ABSENCE_FROM}
            WHERE a.execution_id = $1 AND a.removed_at IS NULL
            ORDER BY a.from_date""",
        execution_id,
    )
    return [domain.Absence(**record) for record in records]


async def insert_absence(
    conn: asyncpg.Connection,
    *,
    id: uuid.UUID,
    customer_id: uuid.UUID,
    stay: domain.Stay,
    reason: str,
    description: str,
    from_date: date,
    to_date: date | None,
    registered_by: str,
) -> AbsenceRow:
    await conn.execute(
        """INSERT INTO absence.absences (id, customer_id, unit_id, order_id, execution_id,
                                         reason, description, from_date, to_date, registered_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)""",
        id,
        customer_id,
        stay.unit_id,
        stay.order_id,
        stay.execution_id,
        reason,
        description,
        from_date,
        to_date,
        registered_by,
    )
    row = await get_absence(conn, id=id, unit=None)
    assert row is not None  # written just above
    return row


async def get_absence(
    conn: asyncpg.Connection, *, id: uuid.UUID, unit: str | None
) -> AbsenceRow | None:
    """One absence that is not removed; at `unit` only, when given."""
    return AbsenceRow.maybe(
        await conn.fetchrow(
            f"""SELECT {_ABSENCE_COLUMNS} {_ABSENCE_FROM}
                WHERE a.id = $1 AND a.removed_at IS NULL
                  AND ($2::text IS NULL OR a.unit_id = $2)""",
            id,
            unit,
        )
    )


async def set_to_date(
    conn: asyncpg.Connection,
    *,
    id: uuid.UUID,
    to_date: date | None,
    updated_by: str,
    change: domain.Change,
) -> AbsenceRow:
    """Give the absence its last day ("Ändra"), or open it again with None; the change is
    the fee administrators' to handle again."""
    await conn.execute(
        """UPDATE absence.absences
              SET to_date = $2, updated_by = $3, updated_at = now(), revision = revision + 1,
                  last_change = $4, changed_at = now(), previous_to_date = to_date
            WHERE id = $1""",
        id,
        to_date,
        updated_by,
        str(change),
    )
    row = await get_absence(conn, id=id, unit=None)
    assert row is not None  # the caller read and locked it in this transaction
    return row


async def remove_absence(conn: asyncpg.Connection, *, id: uuid.UUID, removed_by: str) -> int:
    """Take an absence registered by mistake out of every list; the row stays for the audit.

    Returns the absence's new revision.
    """
    revision = await conn.fetchval(
        """UPDATE absence.absences
              SET removed_by = $2, removed_at = now(), revision = revision + 1,
                  last_change = 'removed', changed_at = now()
            WHERE id = $1 AND removed_at IS NULL
            RETURNING revision""",
        id,
        removed_by,
    )
    assert revision is not None  # the caller read and locked it in this transaction
    return int(revision)


async def get_any_absence(conn: asyncpg.Connection, *, id: uuid.UUID) -> AbsenceRow | None:
    """One absence, removed or not, its row locked until the transaction ends."""
    return AbsenceRow.maybe(
        await conn.fetchrow(
            f"""SELECT {_ABSENCE_COLUMNS} {_ABSENCE_FROM}
                WHERE a.id = $1
                FOR UPDATE OF a""",
            id,
        )
    )


async def mark_handled(
    conn: asyncpg.Connection, *, id: uuid.UUID, revision: int, handled_by: str
) -> AbsenceRow:
    """Mark the absence's change of `revision` handled by a fee administrator."""
    await conn.execute(
        """UPDATE absence.absences
              SET handled_revision = $2, handled_by = $3, handled_at = now()
            WHERE id = $1""",
        id,
        revision,
        handled_by,
    )
    row = AbsenceRow.maybe(
        await conn.fetchrow(f"SELECT {_ABSENCE_COLUMNS} {_ABSENCE_FROM} WHERE a.id = $1", id)
    )
    assert row is not None  # the caller read and locked it in this transaction
    return row


async def unhandled_absences(
    conn: asyncpg.Connection,
    *,
    customer_id: uuid.UUID | None,
    limit: int,
    offset: int,
    after: tuple[Any, ...] | None = None,
) -> tuple[list[AbsenceRow], int]:
    """Absences, removed ones too, whose last change no fee administrator has handled,
    the oldest change first; and how many there are in all. `after` a sort key
    (changed_at, id): the page after it."""
    changed_at, id = after or (None, None)
    records = await conn.fetch(
        f"""SELECT {_ABSENCE_COLUMNS}, count(*) OVER () AS total {_ABSENCE_FROM}
            WHERE {_UNHANDLED}
              AND ($1::uuid IS NULL OR a.customer_id = $1)
              AND ($4::timestamptz IS NULL OR (a.changed_at, a.id) > ($4, $5::uuid))
            ORDER BY a.changed_at, a.id
            LIMIT $2 OFFSET $3""",
        customer_id,
        limit,
        offset,
        changed_at,
        id,
    )
    if after is None and (records or offset == 0):
        return AbsenceRow.many(records), int(records[0]["total"]) if records else 0
    # a later page: its window counts only what follows the cursor (or the offset)
    total = await conn.fetchval(
        f"""SELECT count(*) FROM absence.absences a
            WHERE {_UNHANDLED} AND ($1::uuid IS NULL OR a.customer_id = $1)""",
        customer_id,
    )
    return AbsenceRow.many(records), int(total)


async def list_absences(
    conn: asyncpg.Connection,
    *,
    unit: str | None,
    customer_id: uuid.UUID | None,
    current_on: date | None,
    period_from: date | None,
    period_to: date | None,
    visible_since: date | None = None,
    limit: int,
    after: tuple[Any, ...] | None = None,
) -> list[AbsenceRow]:
    """Absences that are not removed, by unit, customer, absent on a day, or in a period;
    with `visible_since`, none of a stay that ended before that day. `after` a sort key
    (from_date, registered_at, id): the page after it."""
    from_date, registered_at, id = after or (None, None, None)
    records = await conn.fetch(
        f"""SELECT {_ABSENCE_COLUMNS} {_ABSENCE_FROM}
            WHERE a.removed_at IS NULL
              AND ($1::text IS NULL OR a.unit_id = $1)
              AND ($2::uuid IS NULL OR a.customer_id = $2)
              AND ($3::date IS NULL
                   OR (a.from_date <= $3 AND ({_LAST_DAY} IS NULL OR {_LAST_DAY} >= $3)
                       -- implied by the line above; lets absences_unit_last_day find them
                       AND (a.to_date IS NULL OR a.to_date >= $3)))
              AND ($4::date IS NULL OR {_LAST_DAY} IS NULL OR {_LAST_DAY} >= $4)
              AND ($5::date IS NULL OR a.from_date <= $5)
              AND ($6::date IS NULL OR s.end_date IS NULL OR s.end_date >= $6)
              AND ($8::date IS NULL OR (a.from_date, a.registered_at, a.id)
                                       > ($8, $9::timestamptz, $10::uuid))
            ORDER BY a.from_date, a.registered_at, a.id
            LIMIT $7""",
        unit,
        customer_id,
        current_on,
        period_from,
        period_to,
        visible_since,
        limit,
        from_date,
        registered_at,
        id,
    )
    return AbsenceRow.many(records)
