"""Events the orders service publishes (its use cases and the lifecycle's activities)."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import Field

from services.common.contracts.base import Contract, register


@register
class UnitCreated(Contract):
    """A provider unit was added; messaging lists its mailbox `unit:<id>`."""

    TYPE = "unit.created"

    id: str = Field(min_length=1)
    name: str = Field(min_length=1)


@register
class CustomerCreated(Contract):
    """A customer was registered (no personnummer, no name: those stay in orders)."""

    TYPE = "customer.created"

    customer_id: uuid.UUID
    customer_number: str


@register
class OrderCreated(Contract):
    TYPE = "order.created"

    order_id: uuid.UUID
    customer_id: uuid.UUID
    unit_id: str
    service: str
    decision_date: date


@register
class OrderConfirmed(Contract):
    """The provider confirmed the order: its stay (execution) begins on `start_date`."""

    TYPE = "order.confirmed"

    order_id: uuid.UUID
    execution_id: uuid.UUID
    customer_id: uuid.UUID
    unit_id: str
    service: str
    start_date: date


@register
class OrderWithdrawn(Contract):
    TYPE = "order.withdrawn"

    order_id: uuid.UUID
    customer_id: uuid.UUID
    unit_id: str


@register
class ExecutionStarted(Contract):
    TYPE = "execution.started"

    execution_id: uuid.UUID
    order_id: uuid.UUID
    customer_id: uuid.UUID
    unit_id: str
    start_date: date


@register
class ExecutionEnded(Contract):
    """The stay ended on `end_date` (its last day)."""

    TYPE = "execution.ended"

    execution_id: uuid.UUID
    order_id: uuid.UUID
    customer_id: uuid.UUID
    unit_id: str
    start_date: date
    end_date: date
    reason: str
