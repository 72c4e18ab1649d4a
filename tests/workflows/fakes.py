"""Fake activities and helpers for the workflow tests."""

from __future__ import annotations

import sys
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from temporalio import activity
from temporalio.client import Client, WorkflowHandle
from temporalio.exceptions import ApplicationError

from workflows.billing_models import (
    BatchCommand,
    BatchResult,
    BillingRunInput,
    CloseRunCommand,
    OpenRunCommand,
    OpenRunResult,
    Plan,
    PlanCommand,
)
from workflows.billing_run import BillingRun
from workflows.message_retention import RetentionRequest, RetentionResult
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


# --- billing run and message retention -------------------------------------------------

STARTS = [uuid.UUID(int=n << 100) for n in (1, 2, 3, 4)]  # five batches


@dataclass
class FakeBillingActivities:
    """Stands in for the billing schema: every batch issues 10 invoices of 100 kr."""

    refusal: str | None = None
    failing_batch: int | None = None
    parallel: int = 2
    opened: list[OpenRunCommand] = field(default_factory=list)
    plans: list[PlanCommand] = field(default_factory=list)
    batches: list[BatchCommand] = field(default_factory=list)
    closed: list[CloseRunCommand] = field(default_factory=list)
    handles: list[WorkflowHandle] = field(default_factory=list)
    task_queue: str = ""

    @activity.defn(name="billing_open_run")
    async def open_run(self, command: OpenRunCommand) -> OpenRunResult:
        self.opened.append(command)
        return OpenRunResult(refusal=self.refusal)

    @activity.defn(name="billing_plan")
    async def plan(self, command: PlanCommand) -> Plan:
        self.plans.append(command)
        return Plan(customers=9_000, starts=STARTS, parallel=self.parallel)

    @activity.defn(name="billing_bill_batch")
    async def bill_batch(self, command: BatchCommand) -> BatchResult:
        if self.failing_batch is not None and len(self.batches) == self.failing_batch:
            raise ApplicationError("the month has no tariff", type="refused", non_retryable=True)
        self.batches.append(command)
        return BatchResult(issued=9, held=1, total=10 * 10_000)

    @activity.defn(name="billing_close_run")
    async def close_run(self, command: CloseRunCommand) -> None:
        self.closed.append(command)

    def all(self) -> list:
        return [self.open_run, self.plan, self.bill_batch, self.close_run]

    async def start(self, client, input: BillingRunInput, workflow_id: str) -> WorkflowHandle:
        handle = await client.start_workflow(
            BillingRun.run, input, id=workflow_id, task_queue=self.task_queue
        )
        self.handles.append(handle)
        return handle


@dataclass
class FakeRetentionActivities:
    """Stands in for messaging's schema: each run deletes 3 messages and 1 file."""

    asked: list[RetentionRequest] = field(default_factory=list)

    @activity.defn(name="delete_old_messages")
    async def delete_old_messages(self, request: RetentionRequest) -> RetentionResult:
        self.asked.append(request)
        return RetentionResult(messages=3, files=1, retention_seconds=request.older_than or 0)
