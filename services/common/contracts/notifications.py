"""`notification.requested`: any part of the platform asks for a notice in some mailboxes."""

from __future__ import annotations

import uuid

from pydantic import Field

from services.common.contracts.base import Contract, register


@register
class NotificationRequested(Contract):
    """A notice from Lifecare; the messaging service turns it into a message."""

    TYPE = "notification.requested"

    to: list[str] = Field(min_length=1)
    subject: str = Field(min_length=1)
    body: str
    kind: str = "notice"
    order_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None  # the inbox audits every read of the notice
    customer_number: str | None = None
