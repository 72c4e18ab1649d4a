"""The event bridge: absence and invoice events on the bus become signals to the lifecycles."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from services.common.bus import Event, SideEffectConsumer
from services.common.contracts import billing
from services.common.contracts.absence import ABSENCE_CHANGES, AbsenceChanged, AbsenceRemoved
from services.common.settings import Settings
from workflows.models import AbsenceChange, InvoiceIssued, lifecycle_id
from workflows.order_lifecycle import OrderLifecycle

log = logging.getLogger(__name__)

QUEUE = "workflows.bridge"
ABSENCE_EVENTS = tuple(sorted(change.TYPE for change in ABSENCE_CHANGES))
TEMPORAL_DOWN = (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED)


class AbsenceBridge(SideEffectConsumer):
    """Signals every absence.registered, .updated and .removed to its order's lifecycle,
    and invoice.issued to the lifecycles of the ended stays whose last month it covers.

    No inbox of its own: the workflow drops an event id it has seen, and a change older
    than the one it holds, so a redelivered event has no second effect. A lifecycle that
    no longer exists is skipped (logged), so such an event never blocks the queue; any
    other failure is retried and finally dead-lettered by the base class.
    """

    def __init__(self, client: Client, settings: Settings) -> None:
        super().__init__(
            amqp_url=str(settings.amqp_url),
            queue=f"{settings.queue_prefix}{QUEUE}",
            handlers={
                **dict.fromkeys(ABSENCE_EVENTS, self._signal),
                billing.InvoiceIssued.TYPE: self._invoice_issued,
            },
            expires=settings.queue_expires,
            # of the month's invoices only those that end a stay, not every customer's
            bindings=[
                *(f"{type}.#" for type in sorted(ABSENCE_EVENTS)),
                billing.FINAL_INVOICE_ROUTE,
            ],
        )
        self.client = client
        self.skipped = 0

    async def outage(self, exc: Exception) -> bool:
        """Temporal not answering is an outage too: the event waits for it."""
        if isinstance(exc, RPCError) and exc.status in TEMPORAL_DOWN:
            return True
        return await super().outage(exc)

    async def _signal(self, event: Event) -> None:
        absence = event.data_as(AbsenceChanged)
        await self._tell(
            absence.order_id,
            OrderLifecycle.absence_changed,
            AbsenceChange(
                event_id=event.id,
                absence_id=absence.absence_id,
                revision=absence.revision,
                reason=absence.reason,
                reason_label=absence.reason_label,
                escalate_after_days=absence.escalate_after_days,
                from_date=absence.from_date,
                to_date=absence.to_date,
                removed=event.type == AbsenceRemoved.TYPE,
            ),
            event,
        )

    async def _invoice_issued(self, event: Event) -> None:
        """The invoice covers the last month of these ended stays: their lifecycles may end."""
        invoice = event.data_as(billing.InvoiceIssued)
        for order_id in invoice.final_order_ids:
            await self._tell(
                order_id,
                OrderLifecycle.invoice_issued,
                InvoiceIssued(
                    event_id=event.id, period=invoice.period, invoice_id=invoice.invoice_id
                ),
                event,
            )

    async def _tell(self, order_id: uuid.UUID, signal: Any, arg: Any, event: Event) -> None:
        handle = self.client.get_workflow_handle(lifecycle_id(order_id))
        try:
            await handle.signal(signal, arg)
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            # the stay's lifecycle has completed (or never ran): nothing left to tell it
            self.skipped += 1
            log.warning(
                "bridge: no lifecycle %s for event %s (%s); skipped",
                handle.id,
                event.id,
                event.type,
            )
