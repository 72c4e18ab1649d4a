"""How a service starts, changes and asks an order's lifecycle: typed functions, so no
caller builds the workflow's internal state or names its updates by string."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from temporalio.client import Client, WorkflowHandle
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from services.common import temporal
from workflows.models import (
    CUSTOMER_NUMBER,
    ORDER_STATUS,
    UNIT_ID,
    Actor,
    ChangeResult,
    ConfirmRequest,
    Durations,
    EndRequest,
    LifecycleInput,
    LifecycleState,
    WithdrawRequest,
    lifecycle_id,
)
from workflows.order_rules import DateBounds, OrderStatus

__all__ = ["Actor", "ChangeResult", "confirm", "end", "lifecycle_id", "start", "withdraw"]


async def start(
    client: Client,
    *,
    task_queue: str,
    order_id: uuid.UUID,
    customer_id: uuid.UUID,
    customer_number: str,
    unit_id: str,
    decision_date: date,
    created_at: datetime,
    reminder_after: timedelta,
    reminder_every: timedelta,
    ivo_after: timedelta,
    bounds: DateBounds | None = None,
) -> str:
    """Start the lifecycle of a new, unconfirmed order; returns its workflow id."""
    workflow_id = lifecycle_id(order_id)
    await client.start_workflow(
        "OrderLifecycle",
        LifecycleInput(
            state=LifecycleState(
                order_id=order_id,
                customer_id=customer_id,
                customer_number=customer_number,
                unit_id=unit_id,
                decision_date=decision_date,
                created_at=created_at,
                durations=Durations(
                    reminder_after=reminder_after.total_seconds(),
                    reminder_every=reminder_every.total_seconds(),
                    ivo_after=ivo_after.total_seconds(),
                ),
                bounds=bounds or DateBounds(),
            )
        ),
        id=workflow_id,
        task_queue=task_queue,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(CUSTOMER_NUMBER, customer_number),
                SearchAttributePair(UNIT_ID, unit_id),
                SearchAttributePair(ORDER_STATUS, OrderStatus.unconfirmed.value),
            ]
        ),
    )
    return workflow_id


def _handle(client: Client, order_id: uuid.UUID) -> WorkflowHandle:
    return client.get_workflow_handle(lifecycle_id(order_id))


async def confirm(
    client: Client, order_id: uuid.UUID, *, start_date: date, actor: Actor
) -> ChangeResult:
    """The provider confirms with the day the customer moves in (update `confirm`)."""
    request = ConfirmRequest(start_date=start_date, actor=actor)
    return await temporal.update(_handle(client, order_id), "confirm", request, ChangeResult)


async def withdraw(
    client: Client, order_id: uuid.UUID, *, reason: str, actor: Actor
) -> ChangeResult:
    """The caseworker withdraws the unconfirmed order (update `withdraw`)."""
    request = WithdrawRequest(reason=reason, actor=actor)
    return await temporal.update(_handle(client, order_id), "withdraw", request, ChangeResult)


async def end(
    client: Client,
    order_id: uuid.UUID,
    *,
    end_date: date,
    reason: str,
    confirmed: bool,
    actor: Actor,
) -> ChangeResult:
    """The provider ends the execution (update `end`)."""
    request = EndRequest(end_date=end_date, reason=reason, confirmed=confirmed, actor=actor)
    return await temporal.update(_handle(client, order_id), "end", request, ChangeResult)
