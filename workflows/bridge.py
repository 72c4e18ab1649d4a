"""The event bridge: absence events on the bus become signals to each order's lifecycle."""

from __future__ import annotations

import logging

import asyncpg
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from services.absence.events import ABSENCE_EVENTS, ABSENCE_REMOVED, AbsenceChanged
from services.common.bus import Event, EventConsumer
from services.common.settings import Settings
from workflows.models import AbsenceChange, lifecycle_id
from workflows.order_lifecycle import OrderLifecycle

log = logging.getLogger(__name__)

QUEUE = "workflows.bridge"


class AbsenceBridge(EventConsumer):
    """Signals every absence.registered, .updated and .removed to its order's lifecycle.

    No inbox of its own: the workflow drops an event id it has seen, and a change older
    than the one it holds, so a redelivered event has no second effect. A lifecycle that
    no longer exists is skipped (logged), so such an event never blocks the queue; any
    other failure is retried and finally dead-lettered by the base class.
    """

    def __init__(self, client: Client, settings: Settings, pool: asyncpg.Pool) -> None:
        super().__init__(
            pool,  # not used: apply() below keeps no inbox
            schema="orders",
            amqp_url=str(settings.amqp_url),
            queue=f"{settings.queue_prefix}{QUEUE}",
            handlers=dict.fromkeys(ABSENCE_EVENTS, self._signal),
            expires=settings.queue_expires,
        )
        self.client = client
        self.skipped = 0

    async def apply(self, event: Event) -> bool:
        """Signal the lifecycle, outside any database transaction."""
        await self._signal(None, event)
        return True

    async def _signal(self, _conn: asyncpg.Connection | None, event: Event) -> None:
        absence = event.data_as(AbsenceChanged)
        handle = self.client.get_workflow_handle(lifecycle_id(absence.order_id))
        try:
            await handle.signal(
                OrderLifecycle.absence_changed,
                AbsenceChange(
                    event_id=event.id,
                    absence_id=absence.absence_id,
                    revision=absence.revision,
                    reason=absence.reason.value,
                    from_date=absence.from_date,
                    to_date=absence.to_date,
                    removed=event.type == ABSENCE_REMOVED,
                ),
            )
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
