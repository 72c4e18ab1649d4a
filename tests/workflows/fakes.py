"""Fake activities and helpers for the workflow tests."""

from __future__ import annotations

import sys
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from temporalio import activity
from temporalio.client import Client, WorkflowHandle

from workflows.models import (
    AbsenceEscalation,
    ChangeResult,
    ConfirmCommand,
    Durations,
    EndCommand,
    HeldInvoices,
    HeldInvoicesQuery,
    LifecycleInput,
    LifecycleState,
    NotificationCommand,
    StartCommand,
    WithdrawCommand,
    lifecycle_id,
)
from workflows.order_lifecycle import OrderLifecycle

TEST_SERVER = Path(sys.executable).parent / "temporal-test-server"


@dataclass
class FakeOrderActivities:
    """Stands in for the orders database: records what the workflow asked for."""

    notifications: list[NotificationCommand] = field(default_factory=list)
    confirmed: list[ConfirmCommand] = field(default_factory=list)
    started: list[uuid.UUID] = field(default_factory=list)
    ended: list[EndCommand] = field(default_factory=list)
    escalations: list[AbsenceEscalation] = field(default_factory=list)
    handles: list[WorkflowHandle] = field(default_factory=list)
    task_queue: str = ""
    # billing's invoices held for a long absence, by period (YYYY-MM), and what was asked
    held_periods: list[str] = field(default_factory=list)
    held_asked: list[HeldInvoicesQuery] = field(default_factory=list)

    @activity.defn(name="confirm_order")
    async def confirm_order(self, command: ConfirmCommand) -> ChangeResult:
        self.confirmed.append(command)
        if command.start:
            self.started.append(command.order_id)
        return ChangeResult(
            order_id=command.order_id,
            status="ongoing" if command.start else "confirmed",
            execution_id=uuid.uuid4(),
            start_date=command.start_date,
        )

    @activity.defn(name="withdraw_order")
    async def withdraw_order(self, command: WithdrawCommand) -> ChangeResult:
        return ChangeResult(order_id=command.order_id, status="withdrawn")

    @activity.defn(name="end_execution")
    async def end_execution(self, command: EndCommand) -> ChangeResult:
        self.ended.append(command)
        return ChangeResult(order_id=command.order_id, status="ended", end_date=command.end_date)

    @activity.defn(name="start_execution")
    async def start_execution(self, command: StartCommand) -> None:
        self.started.append(command.order_id)

    @activity.defn(name="request_notification")
    async def request_notification(self, command: NotificationCommand) -> None:
        self.notifications.append(command)

    @activity.defn(name="escalate_absence")
    async def escalate_absence(self, command: AbsenceEscalation) -> None:
        self.escalations.append(command)

    @activity.defn(name="held_invoices_of_absence")
    async def held_invoices_of_absence(self, query: HeldInvoicesQuery) -> HeldInvoices:
        self.held_asked.append(query)
        first, last = query.first_day.strftime("%Y-%m"), query.last_day.strftime("%Y-%m")
        return HeldInvoices(periods=[p for p in self.held_periods if first <= p <= last])

    def all(self) -> list:
        return [
            self.confirm_order,
            self.withdraw_order,
            self.end_execution,
            self.start_execution,
            self.request_notification,
            self.escalate_absence,
            self.held_invoices_of_absence,
        ]

    def sent_to(self, mailbox: str) -> list[NotificationCommand]:
        return [n for n in self.notifications if mailbox in n.to]


async def start_lifecycle(
    client: Client,
    task_queue: str,
    *,
    decision_date: date,
    created_at: datetime,
    durations: Durations | None = None,
    history_limit: int = 10_000,
) -> WorkflowHandle:
    """Start an order's lifecycle the way the orders API does."""
    order_id = uuid.uuid4()
    return await client.start_workflow(
        OrderLifecycle.run,
        LifecycleInput(
            state=LifecycleState(
                order_id=order_id,
                customer_id=uuid.uuid4(),
                customer_number="100042",
                unit_id="solbacken",
                decision_date=decision_date,
                created_at=created_at,
                durations=durations or Durations(),
                history_limit=history_limit,
            )
        ),
        id=lifecycle_id(order_id),
        task_queue=task_queue,
    )
