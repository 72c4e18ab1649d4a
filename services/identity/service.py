"""The identity service's use cases: each owns its transaction and its audit row. Routes
(api.py) call these; the rules are in domain.py, the signing in keys.py."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import asyncpg

from services.common import audit
from services.common.auth import Principal, Role
from services.common.dates import today_in_stockholm
from services.common.db import transaction
from services.common.errors import NotFound
from services.common.settings import Settings
from services.identity import domain, keys, repository
from services.identity.repository import Membership, Person

_audit = audit.AuditLog("identity").action


def _window(row: Membership) -> domain.Window:
    return domain.Window(row.valid_from, row.valid_to)


def _resource(row: Membership) -> str:
    return f"person:{row.sub} membership:{row.id}"


async def unit_memberships(pool: asyncpg.Pool, caller: Principal, *, unit: str) -> list[Membership]:
    """Who has access to a unit today or from a later day (its unit_admin, an admin)."""
    domain.may_list(caller, unit=unit)
    async with pool.acquire() as conn:
        return await repository.unit_memberships(conn, unit=unit, on=today_in_stockholm())


async def add_membership(
    pool: asyncpg.Pool,
    caller: Principal,
    request_id: str,
    *,
    sub: str,
    name: str,
    role: Role,
    unit: str | None,
    valid_from: date | None,
    valid_to: date | None,
) -> Membership:
    """Give a person a role (at a unit) for a window of days; audited."""
    unit = domain.check_unit(role, unit)
    domain.may_administer(caller, role=role, unit=unit)
    window = domain.check_window(valid_from or today_in_stockholm(), valid_to)
    async with transaction(pool) as conn:
        await repository.lock_person(conn, sub=sub)
        held = await repository.same_role(conn, sub=sub, role=role.value, unit=unit)
        domain.check_no_overlap(window, [_window(row) for row in held])
        await repository.save_person(conn, sub=sub, name=name)
        row = await repository.insert_membership(
            conn,
            id=uuid.uuid4(),
            sub=sub,
            role=role.value,
            unit=unit,
            valid_from=window.valid_from,
            valid_to=window.valid_to,
            created_by=caller.sub,
        )
        await _audit(conn, caller, request_id, "membership.add", _resource(row))
    return row


async def end_membership(
    pool: asyncpg.Pool,
    caller: Principal,
    request_id: str,
    membership_id: uuid.UUID,
    *,
    valid_to: date,
) -> Membership:
    """End a membership on `valid_to`, its last day; audited. Tokens issued before keep
    working for at most their lifetime (15 minutes)."""
    async with transaction(pool) as conn:
        row = await repository.membership(conn, id=membership_id, for_update=True)
        if row is None:
            raise NotFound("no such membership", code="membership_not_found")
        domain.may_administer(caller, role=Role(row.role), unit=row.unit_id)
        ended = domain.check_end(_window(row), valid_to, today=today_in_stockholm())
        assert ended.valid_to is not None
        row = await repository.end_membership(
            conn, id=membership_id, valid_to=ended.valid_to, ended_by=caller.sub
        )
        await _audit(conn, caller, request_id, "membership.end", _resource(row))
    return row


async def current_of(pool: asyncpg.Pool, *, sub: str) -> tuple[Person, list[Membership]]:
    """The person and the memberships valid today: the web UI's choice of role and unit.
    404 `no_membership` for a person with none."""
    async with pool.acquire() as conn:
        person = await repository.person(conn, sub=sub)
        rows = (
            await repository.current_memberships(conn, sub=sub, on=today_in_stockholm())
            if person is not None
            else []
        )
    domain.check_any_current(len(rows))
    assert person is not None
    return person, rows


async def issue_token(
    pool: asyncpg.Pool,
    signing: keys.SigningKeys,
    settings: Settings,
    request_id: str,
    *,
    sub: str,
    role: Role,
    unit: str | None,
) -> keys.Issued:
    """A platform token for the role (and unit) the person chose, if they hold it today;
    the issue is audited with the person as its actor."""
    unit = domain.check_unit(role, unit)
    now = datetime.now(UTC)
    async with transaction(pool) as conn:
        rows = await repository.current_memberships(conn, sub=sub, on=today_in_stockholm(now))
        domain.check_any_current(len(rows))
        chosen = next((r for r in rows if r.role == role.value and r.unit_id == unit), None)
        domain.check_token_membership(chosen is not None, role=role, unit=unit)
        assert chosen is not None
        issued = keys.sign(
            signing, settings, sub=sub, name=chosen.name, role=role, unit=unit, now=now
        )
        person = Principal(sub=sub, name=chosen.name, role=role, unit=unit)
        await _audit(conn, person, request_id, "token.issue", _resource(chosen))
    return issued
