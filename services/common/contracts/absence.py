"""Events of a customer's absence: its changes, and its escalation to the fee admins."""

from __future__ import annotations

import uuid
from datetime import date

from services.common.contracts.base import Contract, register


class AbsenceChanged(Contract):
    """The data of every absence.* change: enough for billing and to find the lifecycle.

    No description and no names: the free text stays in the absence service. The
    absence's rule of escalation travels with it (`escalate_after_days`), so the lifecycle
    knows when to tell the fee administrators without importing the absence service.
    """

    absence_id: uuid.UUID
    revision: int  # grows with each change: a consumer drops an older one arriving late
    customer_id: uuid.UUID
    unit_id: str
    order_id: uuid.UUID
    execution_id: uuid.UUID
    reason: str
    reason_label: str | None = None  # how the fee administrators read the reason
    from_date: date
    to_date: date | None
    escalate_after_days: int = 30  # told to the fee administrators after this many days


class AbsenceRegistered(AbsenceChanged):
    TYPE = "absence.registered"


class AbsenceUpdated(AbsenceChanged):
    TYPE = "absence.updated"


class AbsenceRemoved(AbsenceChanged):
    TYPE = "absence.removed"


class AbsenceEscalated(Contract):
    """The absence has lasted more than its days: the lifecycle tells the fee admins."""

    TYPE = "absence.escalated"

    absence_id: uuid.UUID
    order_id: uuid.UUID
    execution_id: uuid.UUID | None
    customer_id: uuid.UUID
    customer_number: str
    unit_id: str
    reason: str
    from_date: date
    last_day: date | None  # None while the absence is open
    whole_days: int  # without meals; so far, while open


for _contract in (AbsenceRegistered, AbsenceUpdated, AbsenceRemoved, AbsenceEscalated):
    register(_contract)

ABSENCE_CHANGES: tuple[type[AbsenceChanged], ...] = (
    AbsenceRegistered,
    AbsenceUpdated,
    AbsenceRemoved,
)
