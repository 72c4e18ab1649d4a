"""The orders service's activities: the lifecycle's writes to the orders schema, each a use
case of service.py with its outbox event (interfaces in workflows/lifecycle_activities.py)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import asyncpg
from temporalio import activity
from temporalio.exceptions import ApplicationError

from services.common.errors import LifecareError
from services.common.settings import Settings
from services.orders import service
from workflows.models import (
    ChangeResult,
    ConfirmCommand,
    EndCommand,
    NotificationCommand,
    StartCommand,
    WithdrawCommand,
)


class OrderActivities:
    """Holds the orders pool; each method is one use case of service.py, one transaction,
    safe to retry. A refusal is final (non-retryable), as the workflow's validators
    refuse the same."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @activity.defn(name="confirm_order")
    async def confirm_order(self, command: ConfirmCommand) -> ChangeResult:
        """Confirm the order, open its execution and publish `order.confirmed`; with
        `start`, also start the execution (`execution.started`) in the same transaction."""
        with _refusals():
            return await service.record_confirmation(self.pool, command)

    @activity.defn(name="withdraw_order")
    async def withdraw_order(self, command: WithdrawCommand) -> ChangeResult:
        """Withdraw an unconfirmed order and publish `order.withdrawn`."""
        with _refusals():
            return await service.record_withdrawal(self.pool, command)

    @activity.defn(name="end_execution")
    async def end_execution(self, command: EndCommand) -> ChangeResult:
        """End the execution with its date and reason and publish `execution.ended`."""
        with _refusals():
            return await service.record_end(self.pool, command)

    @activity.defn(name="start_execution")
    async def start_execution(self, command: StartCommand) -> None:
        """The start date has come: the execution is ongoing (`execution.started`)."""
        if not await service.record_start(self.pool, command.order_id):
            # the confirmation is not written yet: retry rather than lose the start
            raise ApplicationError("the order is not confirmed yet; retrying")

    @activity.defn(name="request_notification")
    async def request_notification(self, command: NotificationCommand) -> None:
        """Publish `notification.requested` once per event id, however often retried."""
        await service.record_notice(self.pool, command)


@contextlib.contextmanager
def _refusals() -> Iterator[None]:
    """A use case's refusal as the workflow takes it: final, of type `refused`."""
    try:
        yield
    except LifecareError as exc:
        raise ApplicationError(exc.message, type="refused", non_retryable=True) from None


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
