"""The orders service's activities: the lifecycle's writes to the orders schema, each with
its outbox event (interfaces in workflows/lifecycle_activities.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
from temporalio import activity
from temporalio.exceptions import ApplicationError

from services.common import audit
from services.common.auth import Principal, Role
from services.common.contracts import orders
from services.common.settings import Settings
from services.orders import events, repository
from services.orders.repository import OrderState
from workflows.models import (
    Actor,
    ChangeResult,
    ConfirmCommand,
    EndCommand,
    NotificationCommand,
    StartCommand,
    WithdrawCommand,
)


def _principal(actor: Actor) -> Principal:
    return Principal(sub=actor.sub, name="", role=Role(actor.role), unit=actor.unit)


def _refused(message: str) -> ApplicationError:
    return ApplicationError(message, type="refused", non_retryable=True)


class OrderActivities:
    """Holds the orders pool; every method is one transaction and safe to retry."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @activity.defn(name="confirm_order")
    async def confirm_order(self, command: ConfirmCommand) -> ChangeResult:
        """Confirm the order, open its execution and publish `order.confirmed`; with
        `start`, also start the execution (`execution.started`) in the same transaction."""
        async with self.pool.acquire() as conn, conn.transaction():
            state = await repository.order_state(conn, order_id=command.order_id)
            if state is None:
                raise _refused(f"order {command.order_id} does not exist")
            if state.status != "unconfirmed":
                if state.start_date == command.start_date:  # a retry of a committed try
                    return ChangeResult(order_id=command.order_id, **_change(state))
                raise _refused(f"the order is {state.status}")
            execution_id = uuid.uuid4()
            order = await repository.confirm_order(
                conn,
                order_id=command.order_id,
                execution_id=execution_id,
                start_date=command.start_date,
                confirmed_by=command.actor.sub,
            )
            assert order is not None
            await events.emit(
                conn,
                orders.OrderConfirmed(
                    order_id=command.order_id,
                    execution_id=execution_id,
                    customer_id=order.customer_id,
                    unit_id=order.unit_id,
                    service=order.service,
                    start_date=command.start_date,
                ),
            )
            await self._audit(
                conn, command.actor, "order.confirm", command.order_id, order.customer_id
            )
            if command.start:
                await _start(conn, command.order_id)
        return ChangeResult(
            order_id=command.order_id,
            status="ongoing" if command.start else "confirmed",
            execution_id=execution_id,
            start_date=command.start_date,
        )

    @activity.defn(name="withdraw_order")
    async def withdraw_order(self, command: WithdrawCommand) -> ChangeResult:
        """Withdraw an unconfirmed order and publish `order.withdrawn`."""
        async with self.pool.acquire() as conn, conn.transaction():
            order = await repository.withdraw_order(
                conn, order_id=command.order_id, reason=command.reason
            )
            if order is None:
                state = await repository.order_state(conn, order_id=command.order_id)
                if state is not None and state.status == "withdrawn":
                    return ChangeResult(order_id=command.order_id, status="withdrawn")
                raise _refused("the order cannot be withdrawn")
            await events.emit(
                conn,
                orders.OrderWithdrawn(
                    order_id=command.order_id,
                    customer_id=order.customer_id,
                    unit_id=order.unit_id,
                ),
            )
            await self._audit(
                conn, command.actor, "order.withdraw", command.order_id, order.customer_id
            )
        return ChangeResult(order_id=command.order_id, status="withdrawn")

    @activity.defn(name="end_execution")
    async def end_execution(self, command: EndCommand) -> ChangeResult:
        """End the execution with its date and reason and publish `execution.ended`."""
        async with self.pool.acquire() as conn, conn.transaction():
            ended = await repository.end_execution(
                conn,
                order_id=command.order_id,
                end_date=command.end_date,
                reason=command.reason,
                ended_by=command.actor.sub,
            )
            if ended is None:
                state = await repository.order_state(conn, order_id=command.order_id)
                if state is not None and state.end_date == command.end_date:
                    return ChangeResult(order_id=command.order_id, **_change(state))
                raise _refused("the execution cannot be ended")
            await events.emit(
                conn,
                orders.ExecutionEnded(
                    execution_id=ended.id,
                    order_id=command.order_id,
                    customer_id=ended.customer_id,
                    unit_id=ended.unit_id,
                    start_date=ended.start_date,
                    end_date=command.end_date,
                    reason=command.reason,
                ),
            )
            await self._audit(
                conn, command.actor, "execution.end", command.order_id, ended.customer_id
            )
        return ChangeResult(
            order_id=command.order_id,
            status="ended",
            execution_id=ended.id,
            start_date=ended.start_date,
            end_date=command.end_date,
        )

    @activity.defn(name="start_execution")
    async def start_execution(self, command: StartCommand) -> None:
        """The start date has come: the execution is ongoing (`execution.started`)."""
        async with self.pool.acquire() as conn, conn.transaction():
            if await _start(conn, command.order_id):
                return
            state = await repository.order_state(conn, order_id=command.order_id)
            if state is not None and state.status == "unconfirmed":
                # the confirmation is not written yet: retry rather than lose the start
                raise ApplicationError("the order is not confirmed yet; retrying")
            # otherwise already started, or ended before its first day

    @activity.defn(name="request_notification")
    async def request_notification(self, command: NotificationCommand) -> None:
        """Publish `notification.requested` once per event id, however often retried."""
        async with self.pool.acquire() as conn, conn.transaction():
            await events.emit(conn, command.event(), event_id=command.event_id)

    async def _audit(
        self,
        conn: asyncpg.Connection,
        actor: Actor,
        action: str,
        order_id: uuid.UUID,
        customer_id: uuid.UUID,
    ) -> None:
        await audit.record(
            conn,
            schema="orders",
            principal=_principal(actor),
            action=action,
            resource=f"order:{order_id}",
            customer_ids=[customer_id],
            request_id=actor.request_id,
        )


def _change(state: OrderState) -> dict[str, Any]:
    return {
        "status": state.status,
        "execution_id": state.execution_id,
        "start_date": state.start_date,
        "end_date": state.end_date,
    }


async def _start(conn: asyncpg.Connection, order_id: uuid.UUID) -> bool:
    """Move a confirmed order's execution to ongoing with `execution.started`; False if the
    order was not confirmed (in the caller's transaction)."""
    started = await repository.start_execution(conn, order_id=order_id)
    if started is None:
        return False
    await events.emit(
        conn,
        orders.ExecutionStarted(
            execution_id=started.id,
            order_id=order_id,
            customer_id=started.customer_id,
            unit_id=started.unit_id,
            start_date=started.start_date,
        ),
    )
    return True


def activities(pool: asyncpg.Pool, settings: Settings) -> list[Callable[..., Any]]:
    """The orders service's activities, for the worker (services/common/registry.py)."""
    orders = OrderActivities(pool)
    return [
        orders.confirm_order,
        orders.withdraw_order,
        orders.end_execution,
        orders.start_execution,
        orders.request_notification,
    ]
