"""Events billing publishes, and the read model it keeps from other services' events."""

from __future__ import annotations

import uuid
from datetime import date

import asyncpg
from pydantic import BaseModel

from services.billing import repository
from services.common.bus import Event, Handler

INVOICE_ISSUED = "invoice.issued"
INVOICE_HELD = "invoice.held"
# An issued invoice that covers the last month of an ended stay is published under this
# longer routing key: the lifecycle bridge binds it alone, not the month's other invoices.
FINAL_INVOICE_ROUTE = f"{INVOICE_ISSUED}.final"
NOTIFICATION_REQUESTED = "notification.requested"
FEE_ADMINS = "group:avgifter"

CUSTOMER_CREATED = "customer.created"
ORDER_CONFIRMED = "order.confirmed"
EXECUTION_ENDED = "execution.ended"
ABSENCE_REGISTERED = "absence.registered"
ABSENCE_UPDATED = "absence.updated"
ABSENCE_REMOVED = "absence.removed"


# what the invoice events are called, and whom a held invoice is told to
INVOICE_EVENTS = repository.InvoiceEvents(
    issued=INVOICE_ISSUED,
    held=INVOICE_HELD,
    notification=NOTIFICATION_REQUESTED,
    fee_admins=FEE_ADMINS,
)


async def publish_invoices(conn: asyncpg.Connection, invoice_ids: list[uuid.UUID]) -> None:
    """`invoice.issued`/`invoice.held` for each invoice, and the fee administrators' notice
    of each held one, in the caller's transaction (a billing run's batch writes its own)."""
    if invoice_ids:
        await repository.emit_invoice_events(conn, invoice_ids=invoice_ids, events=INVOICE_EVENTS)


# the routing key of billing's events: the type, `.final` for an invoice ending a stay
ROUTING_KEY = repository.routing_key_sql(
    issued_type=INVOICE_ISSUED, final_route=FINAL_INVOICE_ROUTE
)


class InvoiceEvent(BaseModel):
    """The data of `invoice.issued` and `invoice.held` (the parts the bridge reads)."""

    invoice_id: uuid.UUID
    customer_id: uuid.UUID
    period: str  # YYYY-MM
    status: str
    # orders whose stay has ended and whose last month this invoice covers: their
    # lifecycles may complete; each order is named once, by the first such invoice
    final_order_ids: list[uuid.UUID] = []


# --- the read model --------------------------------------------------------------------------


class _Customer(BaseModel):
    customer_id: uuid.UUID
    customer_number: str


class _Stay(BaseModel):
    """What order.confirmed and execution.ended both say about a stay."""

    execution_id: uuid.UUID
    order_id: uuid.UUID
    customer_id: uuid.UUID
    unit_id: str
    start_date: date
    end_date: date | None = None


class _Absence(BaseModel):
    absence_id: uuid.UUID
    revision: int
    customer_id: uuid.UUID
    reason: str
    from_date: date
    to_date: date | None = None


async def on_customer_created(conn: asyncpg.Connection, event: Event) -> None:
    customer = event.data_as(_Customer)
    await repository.record_customer(
        conn, id=customer.customer_id, customer_number=customer.customer_number
    )


async def on_stay(conn: asyncpg.Connection, event: Event) -> None:
    """A stay began or ended: months billed already are checked again on the next invoice,
    and an end whose last month is invoiced already lets the lifecycle complete."""
    stay = event.data_as(_Stay)
    ended_before = await repository.record_stay(conn, **stay.model_dump())
    changed = [d for d in (ended_before, stay.end_date) if d is not None]
    await repository.mark_rechecks(
        conn, customer_id=stay.customer_id, since=min(changed) if changed else stay.start_date
    )
    if stay.end_date is not None:
        invoice_id = await repository.invoice_covering_end(conn, execution_id=stay.execution_id)
        if invoice_id is not None:  # announced again, now naming this stay's order
            await publish_invoices(conn, [invoice_id])


async def on_absence(conn: asyncpg.Connection, event: Event) -> None:
    """An absence registered, changed or removed; an older revision arriving late is dropped."""
    absence = event.data_as(_Absence)
    applied = await repository.record_absence(
        conn,
        id=absence.absence_id,
        customer_id=absence.customer_id,
        reason=absence.reason,
        from_date=absence.from_date,
        to_date=absence.to_date,
        revision=absence.revision,
        removed=event.type == ABSENCE_REMOVED,
    )
    if applied is not None:
        known = [d for d in (applied["from_date"], absence.from_date) if d is not None]
        await repository.mark_rechecks(conn, customer_id=absence.customer_id, since=min(known))


READ_MODEL_HANDLERS: dict[str, Handler] = {
    CUSTOMER_CREATED: on_customer_created,
    ORDER_CONFIRMED: on_stay,
    EXECUTION_ENDED: on_stay,
    ABSENCE_REGISTERED: on_absence,
    ABSENCE_UPDATED: on_absence,
    ABSENCE_REMOVED: on_absence,
}
