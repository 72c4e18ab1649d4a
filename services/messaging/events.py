"""Events the messaging service consumes: units for its directory, and notices to deliver."""

from __future__ import annotations

import asyncpg

from services.common.bus import Event, Handler
from services.common.contracts.notifications import NotificationRequested
from services.common.contracts.orders import UnitCreated
from services.common.errors import LifecareError
from services.messaging import domain, repository


async def on_unit_created(conn: asyncpg.Connection, event: Event) -> None:
    """A new provider unit: its mailbox `unit:<id>` can be found by name."""
    unit = event.data_as(UnitCreated)
    await repository.upsert_unit(conn, id=unit.id, name=unit.name)


async def on_notification_requested(conn: asyncpg.Connection, event: Event) -> None:
    """One notice from Lifecare in the named mailboxes; its id is the event's."""
    notice = event.data_as(NotificationRequested)
    try:
        mailboxes = domain.parse_recipients(notice.to)
    except LifecareError:
        raise ValueError(f"{event.type} {event.id}: `to` names no valid mailbox") from None
    known = await repository.mailbox_names(conn, mailboxes=mailboxes)
    await repository.insert_message(
        conn,
        id=event.id,
        sender_sub=None,
        sender_name=domain.SYSTEM_SENDER,
        subject=notice.subject,
        body=notice.body,
        recipients=domain.name_recipients(mailboxes, known, strict=False),
        attachment_ids=[],
        kind=notice.kind,
        order_id=notice.order_id,
        customer_id=notice.customer_id,
    )


HANDLERS: dict[str, Handler] = {
    UnitCreated.TYPE: on_unit_created,
    NotificationRequested.TYPE: on_notification_requested,
}
