"""What billing learns from the other services' events: customers, stays and absences,
read with their contracts (services/common/contracts); the stays through the shared
projection (services/common/stays.py) into billing's own table."""

from __future__ import annotations

import asyncpg

from services.billing import engine, repository
from services.common import stays
from services.common.bus import Event, Handler
from services.common.contracts.absence import ABSENCE_CHANGES, AbsenceChanged, AbsenceRemoved
from services.common.contracts.orders import CustomerCreated

SCHEMA = "billing"


async def on_customer_created(conn: asyncpg.Connection, event: Event) -> None:
    customer = event.data_as(CustomerCreated)
    await repository.record_customer(
        conn, id=customer.customer_id, customer_number=customer.customer_number
    )


async def on_stay(conn: asyncpg.Connection, event: Event) -> None:
    """A stay began or ended: months billed already are checked again on the next invoice,
    and an end whose last month is invoiced already lets the lifecycle complete."""
    stay = stays.stay_of(event)
    ended_before = await stays.record(conn, schema=SCHEMA, stay=stay)
    changed = [d for d in (ended_before, stay.end_date) if d is not None]
    await repository.mark_rechecks(
        conn, customer_id=stay.customer_id, since=min(changed) if changed else stay.start_date
    )
    if stay.end_date is not None:
        invoice_id = await repository.invoice_covering_end(conn, execution_id=stay.execution_id)
        if invoice_id is not None:  # announced again, now naming this stay's order
            await engine.emit_invoice_events(conn, invoice_ids=[invoice_id])


async def on_absence(conn: asyncpg.Connection, event: Event) -> None:
    """An absence registered, changed or removed; an older revision arriving late is dropped."""
    absence = event.data_as(AbsenceChanged)
    applied = await repository.record_absence(
        conn,
        id=absence.absence_id,
        customer_id=absence.customer_id,
        reason=absence.reason,
        from_date=absence.from_date,
        to_date=absence.to_date,
        revision=absence.revision,
        removed=event.type == AbsenceRemoved.TYPE,
    )
    if applied is not None:
        known = [d for d in (applied.from_date, absence.from_date) if d is not None]
        await repository.mark_rechecks(conn, customer_id=absence.customer_id, since=min(known))


HANDLERS: dict[str, Handler] = {
    CustomerCreated.TYPE: on_customer_created,
    **dict.fromkeys(stays.STAY_EVENTS, on_stay),
    **dict.fromkeys((change.TYPE for change in ABSENCE_CHANGES), on_absence),
}
