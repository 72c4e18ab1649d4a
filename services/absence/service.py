"""The absence service's use cases: each owns its transaction, its audit row and its outbox
event. Routes (api.py) call these; the rules are in domain.py."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import date
from typing import Any

import asyncpg

from services.absence import domain, events, repository
from services.absence.repository import AbsenceRow
from services.common import audit, contracts, stays
from services.common.auth import Principal, Role
from services.common.bus import Event, Handler
from services.common.dates import today_in_stockholm
from services.common.db import transaction
from services.common.errors import NotFound
from services.common.settings import Settings
from workflows.models import AbsenceEscalation

READERS = (Role.provider, Role.fee_admin)
# the fee administrators' list of changes to handle: its largest page
MAX_UNHANDLED = 500
STAY_POLL_INTERVAL = 0.1

_audit = audit.AuditLog("absence").customers


def _unit(caller: Principal) -> str:
    caller.require(Role.provider)
    assert caller.unit is not None  # a provider's token always names its unit
    return caller.unit


async def _stays_at_unit(
    pool: asyncpg.Pool, settings: Settings, customer_id: uuid.UUID, unit: str
) -> list[domain.Stay]:
    """The customer's stays at the unit, waiting briefly for one to become known.

    Event lag: the absence service learns a stay from `order.confirmed`, a moment after the
    provider confirmed. We chose to WAIT rather than answer "retry later": a registration
    made right after a confirmation polls the read model for up to `absence_stay_wait`
    (5 s by default; the lag is normally well under a second), so the provider never sees a
    refusal caused by the lag. Only when no stay at the unit shows up within that time is
    the answer 404 (another unit's customer, or an order not confirmed). A known stay is
    never waited for.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settings.absence_stay_wait.total_seconds()
    while True:
        async with pool.acquire() as conn:
            found = await repository.stays(conn, customer_id=customer_id, unit=unit)
        if found or loop.time() >= deadline:
            return found
        await asyncio.sleep(STAY_POLL_INTERVAL)


async def _locked_absence(
    conn: asyncpg.Connection, caller: Principal, absence_id: uuid.UUID
) -> AbsenceRow:
    """The caller's unit's absence, its customer locked against concurrent changes."""
    row = await repository.get_absence(conn, id=absence_id, unit=_unit(caller))
    if row is not None:
        await repository.lock_customer(conn, customer_id=row.customer_id)
        # read again under the lock: a change that held it may have committed meanwhile
        row = await repository.get_absence(conn, id=absence_id, unit=_unit(caller))
    if row is None:
        raise NotFound("no such absence", code="absence_not_found")
    return row


async def register(
    pool: asyncpg.Pool,
    settings: Settings,
    caller: Principal,
    request_id: str,
    *,
    customer_id: uuid.UUID,
    reason: str,
    description: str,
    from_date: date,
    to_date: date | None,
) -> AbsenceRow:
    """Register a customer's absence at the caller's unit (provider); late is fine."""
    unit = _unit(caller)
    domain.check_dates(from_date=from_date, to_date=to_date)
    domain.check_stays_known(await _stays_at_unit(pool, settings, customer_id, unit))
    async with transaction(pool) as conn:
        await repository.lock_customer(conn, customer_id=customer_id)
        stay = domain.check_absence(
            from_date=from_date,
            to_date=to_date,
            stays=await repository.stays(conn, customer_id=customer_id, unit=unit),
            others=await repository.other_absences(conn, customer_id=customer_id, excluding=None),
        )
        row = await repository.insert_absence(
            conn,
            id=uuid.uuid4(),
            customer_id=customer_id,
            stay=stay,
            reason=reason,
            description=description,
            from_date=from_date,
            to_date=to_date,
            registered_by=caller.sub,
        )
        await events.emit(conn, events.AbsenceRegistered, row)
        await _audit(
            conn, caller, request_id, "absence.register", f"absence:{row.id}", [row.customer_id]
        )
    return row


async def list_absences(
    pool: asyncpg.Pool,
    settings: Settings,
    caller: Principal,
    request_id: str,
    *,
    current: bool,
    customer_id: uuid.UUID | None,
    period_from: date | None,
    period_to: date | None,
    limit: int,
    after: tuple[Any, ...] | None = None,
) -> list[AbsenceRow]:
    """Today's absences, a customer's, or those touching a period; a provider its unit's,
    of stays that are current or ended within `customer_visible_after_end`. `limit` after
    the sort key `after`, and the first of the next page when there is one (not audited:
    it is not shown)."""
    caller.require(*READERS)
    domain.check_period(first=period_from, last=period_to)
    visible_since = None
    if caller.provider_unit is not None:
        visible_since = domain.visible_since(
            today_in_stockholm(), settings.customer_visible_after_end
        )
    async with transaction(pool) as conn:
        rows = await repository.list_absences(
            conn,
            unit=caller.provider_unit,
            customer_id=customer_id,
            current_on=today_in_stockholm() if current else None,
            period_from=period_from,
            period_to=period_to,
            visible_since=visible_since,
            limit=limit + 1,
            after=after,
        )
        await _audit(
            conn,
            caller,
            request_id,
            "absence.list",
            "absences",
            [r.customer_id for r in rows[:limit]],
        )
    return rows


async def list_unhandled(
    pool: asyncpg.Pool,
    caller: Principal,
    request_id: str,
    *,
    customer_id: uuid.UUID | None,
    limit: int,
    offset: int,
    after: tuple[Any, ...] | None = None,
) -> tuple[list[AbsenceRow], int]:
    """The absences whose last change (registered, ended, changed, removed) no fee
    administrator has handled, oldest change first (and the first of the next page, not
    audited), and how many in all (fee admin)."""
    caller.require(Role.fee_admin)
    async with transaction(pool) as conn:
        rows, total = await repository.unhandled_absences(
            conn, customer_id=customer_id, limit=limit + 1, offset=offset, after=after
        )
        await _audit(
            conn,
            caller,
            request_id,
            "absence.list_unhandled",
            "absences",
            [r.customer_id for r in rows[:limit]],
        )
    return rows, total


async def mark_handled(
    pool: asyncpg.Pool,
    caller: Principal,
    request_id: str,
    absence_id: uuid.UUID,
    *,
    seen_revision: int | None,
) -> AbsenceRow:
    """A fee administrator marks the absence's last change handled; the next change makes
    it unhandled again. Removed absences too: their removal is a change to handle."""
    caller.require(Role.fee_admin)
    async with transaction(pool) as conn:
        row = await repository.get_any_absence(conn, id=absence_id)
        if row is None:
            raise NotFound("no such absence", code="absence_not_found")
        domain.check_mark_handled(
            revision=row.revision, handled_revision=row.handled_revision, seen=seen_revision
        )
        row = await repository.mark_handled(
            conn, id=absence_id, revision=row.revision, handled_by=caller.sub
        )
        await _audit(
            conn, caller, request_id, "absence.handled", f"absence:{absence_id}", [row.customer_id]
        )
    return row


async def read(
    pool: asyncpg.Pool, caller: Principal, request_id: str, absence_id: uuid.UUID
) -> AbsenceRow:
    """One absence (another unit's is a 404)."""
    caller.require(*READERS)
    async with transaction(pool) as conn:
        row = await repository.get_absence(conn, id=absence_id, unit=caller.provider_unit)
        if row is None:
            raise NotFound("no such absence", code="absence_not_found")
        await _audit(
            conn, caller, request_id, "absence.read", f"absence:{absence_id}", [row.customer_id]
        )
    return row


async def change_end(
    pool: asyncpg.Pool,
    caller: Principal,
    request_id: str,
    absence_id: uuid.UUID,
    *,
    to_date: date | None,
) -> AbsenceRow:
    """ "Ändra": give the absence its last day when the customer is back (provider)."""
    unit = _unit(caller)
    async with transaction(pool) as conn:
        row = await _locked_absence(conn, caller, absence_id)
        if row.to_date == to_date:  # nothing changes, nothing is published
            await _audit(
                conn, caller, request_id, "absence.read", f"absence:{absence_id}", [row.customer_id]
            )
            return row
        stays = await repository.stays(conn, customer_id=row.customer_id, unit=unit)
        domain.check_absence(
            from_date=row.from_date,
            to_date=to_date,
            stays=[s for s in stays if s.execution_id == row.execution_id],
            others=await repository.other_absences(
                conn, customer_id=row.customer_id, excluding=absence_id
            ),
        )
        row = await repository.set_to_date(
            conn,
            id=absence_id,
            to_date=to_date,
            updated_by=caller.sub,
            change=domain.change_of(before=row.to_date, after=to_date),
        )
        await events.emit(conn, events.AbsenceUpdated, row)
        await _audit(
            conn, caller, request_id, "absence.update", f"absence:{absence_id}", [row.customer_id]
        )
    return row


async def remove(
    pool: asyncpg.Pool, caller: Principal, request_id: str, absence_id: uuid.UUID
) -> None:
    """Remove an absence registered by mistake (provider); the audit log keeps it."""
    async with transaction(pool) as conn:
        row = await _locked_absence(conn, caller, absence_id)
        revision = await repository.remove_absence(conn, id=absence_id, removed_by=caller.sub)
        await events.emit(conn, events.AbsenceRemoved, dataclasses.replace(row, revision=revision))
        await _audit(
            conn, caller, request_id, "absence.remove", f"absence:{absence_id}", [row.customer_id]
        )


# --- the lifecycle's escalation (services/absence/activities.py calls this) -----------------


async def record_escalation(pool: asyncpg.Pool, command: AbsenceEscalation) -> None:
    """Write `absence.escalated`, which the lifecycle decided on, under the id it fixed
    (once per id, however often retried)."""
    async with transaction(pool) as conn:
        await contracts.write(
            conn, schema="absence", event=command.event(), event_id=command.event_id
        )


# --- the stays it learns from the orders service's events ----------------------------------

# who changed an absence when its stay ended, in its row and in the audit log: the stay's
# end (the orders service's audit log names the provider who ended it)
STAY_ENDED_BY = "execution.ended"


async def on_stay_event(conn: asyncpg.Connection, event: Event) -> None:
    """A stay began (order.confirmed) or ended (execution.ended): keep it in the read model;
    at its end, end the absences that run past its last day and remove those that begin
    after it, each with its event (in the consumer's transaction)."""
    stay = stays.stay_of(event)
    await repository.lock_customer(conn, customer_id=stay.customer_id)  # against a change
    await stays.record(conn, schema="absence", stay=stay)
    if stay.end_date is None:
        return
    absences = await repository.absences_of_stay(conn, execution_id=stay.execution_id)
    changes = domain.at_stay_end(absences, end_date=stay.end_date)
    before = {absence.id: absence.to_date for absence in absences}
    system = Principal(sub=STAY_ENDED_BY, name="", role=Role.provider, unit=stay.unit_id)
    request_id = f"event:{event.id}"
    for absence_id in changes.ended:
        row = await repository.set_to_date(
            conn,
            id=absence_id,
            to_date=stay.end_date,
            updated_by=STAY_ENDED_BY,
            change=domain.change_of(before=before[absence_id], after=stay.end_date),
        )
        await events.emit(conn, events.AbsenceUpdated, row)
        await _audit(
            conn, system, request_id, "absence.update", f"absence:{absence_id}", [row.customer_id]
        )
    for absence_id in changes.removed:
        removed = await repository.get_absence(conn, id=absence_id, unit=None)
        assert removed is not None  # read under the customer's lock just above
        revision = await repository.remove_absence(conn, id=absence_id, removed_by=STAY_ENDED_BY)
        await events.emit(
            conn, events.AbsenceRemoved, dataclasses.replace(removed, revision=revision)
        )
        await _audit(
            conn,
            system,
            request_id,
            "absence.remove",
            f"absence:{absence_id}",
            [removed.customer_id],
        )


STAY_HANDLERS: dict[str, Handler] = dict.fromkeys(stays.STAY_EVENTS, on_stay_event)
