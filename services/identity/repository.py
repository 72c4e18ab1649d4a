"""All SQL of the identity service. Functions never commit: the caller owns the transaction."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date, datetime

import asyncpg

from services.common.rows import Row


@dataclasses.dataclass(frozen=True, slots=True)
class Person(Row):
    sub: str
    name: str


@dataclasses.dataclass(frozen=True, slots=True)
class Membership(Row):
    id: uuid.UUID
    sub: str
    name: str
    role: str
    unit_id: str | None
    valid_from: date
    valid_to: date | None
    created_by: str
    created_at: datetime
    ended_by: str | None
    ended_at: datetime | None


_MEMBERSHIP = """
    SELECT m.id, m.sub, p.name, m.role, m.unit_id, m.valid_from, m.valid_to, m.created_by,
           m.created_at, m.ended_by, m.ended_at
    FROM identity.memberships m JOIN identity.people p ON p.sub = m.sub
"""


async def lock_person(conn: asyncpg.Connection, *, sub: str) -> None:
    """Serialise changes to one person's memberships until the transaction ends (overlaps)."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('identity:' || $1::text, 0))", sub
    )


async def save_person(conn: asyncpg.Connection, *, sub: str, name: str) -> Person:
    """The person, added or with the name the identity provider gives now."""
    record = await conn.fetchrow(
        """INSERT INTO identity.people (sub, name) VALUES ($1, $2)
           ON CONFLICT (sub) DO UPDATE SET name = EXCLUDED.name,
               updated_at = CASE WHEN people.name = EXCLUDED.name THEN people.updated_at
                                 ELSE now() END
           RETURNING sub, name""",
        sub,
        name,
    )
    return Person.of(record)


async def person(conn: asyncpg.Connection, *, sub: str) -> Person | None:
    record = await conn.fetchrow("SELECT sub, name FROM identity.people WHERE sub = $1", sub)
    return Person.maybe(record)


async def insert_membership(
    conn: asyncpg.Connection,
    *,
    id: uuid.UUID,
    sub: str,
    role: str,
    unit: str | None,
    valid_from: date,
    valid_to: date | None,
    created_by: str,
) -> Membership:
    await conn.execute(
        """INSERT INTO identity.memberships
           (id, sub, role, unit_id, valid_from, valid_to, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        id,
        sub,
        role,
        unit,
        valid_from,
        valid_to,
        created_by,
    )
    found = await membership(conn, id=id)
    assert found is not None
    return found


async def membership(
    conn: asyncpg.Connection, *, id: uuid.UUID, for_update: bool = False
) -> Membership | None:
    lock = " FOR UPDATE OF m" if for_update else ""
    return Membership.maybe(await conn.fetchrow(f"{_MEMBERSHIP} WHERE m.id = $1{lock}", id))


async def same_role(
    conn: asyncpg.Connection, *, sub: str, role: str, unit: str | None
) -> list[Membership]:
    """The person's memberships of one role at one unit (or at none), oldest first."""
    records = await conn.fetch(
        f"""{_MEMBERSHIP}
            WHERE m.sub = $1 AND m.role = $2 AND m.unit_id IS NOT DISTINCT FROM $3
            ORDER BY m.valid_from""",
        sub,
        role,
        unit,
    )
    return Membership.many(records)


async def end_membership(
    conn: asyncpg.Connection, *, id: uuid.UUID, valid_to: date, ended_by: str
) -> Membership:
    await conn.execute(
        """UPDATE identity.memberships SET valid_to = $2, ended_by = $3, ended_at = now()
           WHERE id = $1""",
        id,
        valid_to,
        ended_by,
    )
    found = await membership(conn, id=id)
    assert found is not None
    return found


async def unit_memberships(conn: asyncpg.Connection, *, unit: str, on: date) -> list[Membership]:
    """Who has access to a unit on `on` or will have later: the unit's page, by name."""
    records = await conn.fetch(
        f"""{_MEMBERSHIP}
            WHERE m.unit_id = $1 AND (m.valid_to IS NULL OR m.valid_to >= $2)
            ORDER BY p.name, m.sub, m.role, m.valid_from""",
        unit,
        on,
    )
    return Membership.many(records)


async def current_memberships(conn: asyncpg.Connection, *, sub: str, on: date) -> list[Membership]:
    """The person's memberships valid on `on`, by role and unit."""
    records = await conn.fetch(
        f"""{_MEMBERSHIP}
            WHERE m.sub = $1 AND m.valid_from <= $2 AND (m.valid_to IS NULL OR m.valid_to >= $2)
            ORDER BY m.role, m.unit_id""",
        sub,
        on,
    )
    return Membership.many(records)
