"""Inputs and outputs of workflows and activities: one pydantic model per input."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field, StrictBool
from temporalio.common import SearchAttributeKey

from services.common.contracts.absence import AbsenceEscalated
from services.common.contracts.notifications import NotificationRequested
from workflows.order_rules import DateBounds

CUSTOMER_NUMBER = SearchAttributeKey.for_keyword("CustomerNumber")
UNIT_ID = SearchAttributeKey.for_keyword("UnitId")
ORDER_STATUS = SearchAttributeKey.for_keyword("OrderStatus")
SEARCH_ATTRIBUTES = (CUSTOMER_NUMBER, UNIT_ID, ORDER_STATUS)


def lifecycle_id(order_id: uuid.UUID | str) -> str:
    """The workflow id of an order's lifecycle."""
    return f"order-{order_id}"


class Actor(BaseModel):
    """Who asked for a change, for the audit log (never a personnummer)."""

    sub: str
    role: str
    unit: str | None = None
    request_id: str | None = None


class Durations(BaseModel):
    """Reminder and IVO timing, in seconds, taken from settings when the order is created."""

    reminder_after: float = 3 * 86400
    reminder_every: float = 7 * 86400
    ivo_after: float = 90 * 86400


class AbsenceEntry(BaseModel):
    """An absence of the customer during the stay, as the lifecycle knows it."""

    absence_id: uuid.UUID
    reason: str
    from_date: date
    to_date: date | None = None
    escalated: bool = False
    removed: bool = False
    revision: int = 0  # of the last change applied; an older one arriving late is dropped
    reason_label: str | None = None  # the reason as the fee administrators read it
    escalate_after_days: int = 30  # the absence service's rule, from its events
    # the final count (workflows/absence_count.py): the last day the fee administrators
    # were told last (by the escalation or a final count), whether they were told of its
    # removal, and how many final counts went out (each notice's key)
    told_end: date | None = None
    told_removed: bool = False
    final_counts: int = 0


class LifecycleState(BaseModel):
    """Everything the lifecycle carries, also across continue-as-new."""

    order_id: uuid.UUID
    customer_id: uuid.UUID
    customer_number: str
    unit_id: str
    decision_date: date
    created_at: datetime
    durations: Durations = Field(default_factory=Durations)
    # the settings' date bounds when the order was created; the defaults for older runs
    bounds: DateBounds = Field(default_factory=DateBounds)
    status: str = "unconfirmed"
    execution_id: uuid.UUID | None = None
    start_date: date | None = None
    end_date: date | None = None
    reminders_sent: int = 0
    ivo_notified: bool = False
    absences: list[AbsenceEntry] = Field(default_factory=list)
    invoiced_through: str | None = None  # the last period (YYYY-MM) invoiced
    seen_signals: list[str] = Field(default_factory=list)
    history_limit: int = 10_000


class LifecycleInput(BaseModel):
    state: LifecycleState


class ConfirmRequest(BaseModel):
    start_date: date
    actor: Actor


class WithdrawRequest(BaseModel):
    reason: str
    actor: Actor


class EndRequest(BaseModel):
    end_date: date
    reason: str
    # JSON's true only: a direct call's "yes" or 1 is refused as it decodes, as the API's is
    confirmed: StrictBool
    actor: Actor


class ConfirmCommand(BaseModel):
    order_id: uuid.UUID
    start_date: date
    actor: Actor
    # the start date has come: start the execution in the confirmation's transaction
    start: bool = False


class WithdrawCommand(BaseModel):
    order_id: uuid.UUID
    reason: str
    actor: Actor


class EndCommand(BaseModel):
    order_id: uuid.UUID
    end_date: date
    reason: str
    actor: Actor


class StartCommand(BaseModel):
    order_id: uuid.UUID


class ChangeResult(BaseModel):
    """What an activity changed: the order's status and its execution."""

    order_id: uuid.UUID
    status: str
    execution_id: uuid.UUID | None = None
    start_date: date | None = None
    end_date: date | None = None


class NotificationCommand(NotificationRequested):
    """A `notification.requested` event to write, with an id fixed by the workflow: the
    event's contract (services/common/contracts) and that id, nothing else."""

    event_id: uuid.UUID

    def event(self) -> NotificationRequested:
        """The event itself, without the id it is written under."""
        return NotificationRequested.model_validate(self.model_dump(exclude={"event_id"}))

    def payload(self) -> dict[str, object]:
        return self.event().payload()


class InvoiceIssued(BaseModel):
    """Billing issued the invoice of a period for this order's customer."""

    event_id: uuid.UUID
    period: str  # YYYY-MM
    invoice_id: uuid.UUID | None = None


class AbsenceChange(BaseModel):
    """The event bridge saw an absence of this stay registered, changed or removed."""

    event_id: uuid.UUID
    absence_id: uuid.UUID
    revision: int
    reason: str
    from_date: date
    to_date: date | None = None
    removed: bool = False
    reason_label: str | None = None
    escalate_after_days: int = 30


class AbsenceEscalation(AbsenceEscalated):
    """An `absence.escalated` event to write, with an id fixed by the workflow: the event's
    contract (services/common/contracts) and that id, nothing else."""

    event_id: uuid.UUID

    def event(self) -> AbsenceEscalated:
        """The event itself, without the id it is written under."""
        return AbsenceEscalated.model_validate(self.model_dump(exclude={"event_id"}))

    def payload(self) -> dict[str, object]:
        return self.event().payload()


class HeldInvoicesQuery(BaseModel):
    """Which of the customer's invoices are held for a long absence in these months."""

    customer_id: uuid.UUID
    first_day: date  # the first day of the first month
    last_day: date  # a day of the last month


class HeldInvoices(BaseModel):
    """The periods (YYYY-MM) whose invoices wait, held for a long absence."""

    periods: list[str] = Field(default_factory=list)
