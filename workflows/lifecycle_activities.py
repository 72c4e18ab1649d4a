"""The activities the order lifecycle calls: their names, inputs and outputs.

Interfaces only: the orders service implements the writes to its schema
(`services.orders.activities`), the absence service the escalation event
(`services.absence.activities`), billing the question of held invoices
(`services.billing.activities`); the worker registers those implementations under these
names. Names never change: they are in every recorded history.
"""

from __future__ import annotations

from temporalio import activity

from workflows.models import (
    AbsenceEscalation,
    ChangeResult,
    ConfirmCommand,
    EndCommand,
    HeldInvoices,
    HeldInvoicesQuery,
    NotificationCommand,
    StartCommand,
    WithdrawCommand,
)

NOT_HERE = "an interface: the worker runs the service's implementation of this activity"


@activity.defn(name="confirm_order")
async def confirm_order(command: ConfirmCommand) -> ChangeResult:
    """Confirm the order and open its execution (`order.confirmed`); with `start`, also
    start the execution (`execution.started`) in the same transaction."""
    raise NotImplementedError(NOT_HERE)


@activity.defn(name="withdraw_order")
async def withdraw_order(command: WithdrawCommand) -> ChangeResult:
    """Withdraw an unconfirmed order (`order.withdrawn`)."""
    raise NotImplementedError(NOT_HERE)


@activity.defn(name="end_execution")
async def end_execution(command: EndCommand) -> ChangeResult:
    """End the execution with its date and reason (`execution.ended`)."""
    raise NotImplementedError(NOT_HERE)


@activity.defn(name="start_execution")
async def start_execution(command: StartCommand) -> None:
    """The start date has come: the execution is ongoing (`execution.started`)."""
    raise NotImplementedError(NOT_HERE)


@activity.defn(name="request_notification")
async def request_notification(command: NotificationCommand) -> None:
    """Publish `notification.requested` once per event id, however often retried."""
    raise NotImplementedError(NOT_HERE)


@activity.defn(name="escalate_absence")
async def escalate_absence(command: AbsenceEscalation) -> None:
    """Publish `absence.escalated` once per event id, however often retried."""
    raise NotImplementedError(NOT_HERE)


@activity.defn(name="held_invoices_of_absence")
async def held_invoices_of_absence(query: HeldInvoicesQuery) -> HeldInvoices:
    """The periods whose invoices of the customer are held for a long absence (billing)."""
    raise NotImplementedError(NOT_HERE)


INTERFACE = (
    confirm_order,
    withdraw_order,
    end_execution,
    start_execution,
    request_notification,
    escalate_absence,
    held_invoices_of_absence,
)
