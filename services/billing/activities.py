"""The billing service's activities: the BillingRun's work on the billing schema, each a
use case of service.py (interfaces in workflows/billing_models.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import asyncpg
from temporalio import activity

from services.billing import repository, service
from services.common.settings import Settings
from workflows.billing_models import (
    BILL_BATCH,
    CLOSE_RUN,
    OPEN_RUN,
    PLAN,
    BatchCommand,
    BatchResult,
    CloseRunCommand,
    OpenRunCommand,
    OpenRunResult,
    Period,
    Plan,
    PlanCommand,
)
from workflows.models import HeldInvoices, HeldInvoicesQuery


class BillingActivities:
    """Holds the pool, the absence reasons that spare the care fee, and how a run is cut:
    customers per batch, batches at a time. Each activity is safe to retry."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        care_reasons: Sequence[str],
        batch_size: int = 5000,
        parallel: int = 2,
        correction_months: int = service.DEFAULT_CORRECTION_MONTHS,
    ) -> None:
        self.pool = pool
        self.care_reasons = list(care_reasons)
        self.batch_size = batch_size
        self.parallel = parallel
        self.correction_months = correction_months

    @activity.defn(name=OPEN_RUN)
    async def open_run(self, command: OpenRunCommand) -> OpenRunResult:
        """Record the run as running, or say why the month cannot be billed."""
        async with self.pool.acquire() as conn, conn.transaction():
            refusal = await service.open_run(
                conn,
                run_id=command.run_id,
                period=Period.parse(command.period),
                workflow_id=command.workflow_id,
                requested_by=command.requested_by,
            )
        return OpenRunResult(refusal=refusal.message if refusal is not None else None)

    @activity.defn(name=PLAN)
    async def plan(self, command: PlanCommand) -> Plan:
        """The customers the month has to bill, cut into batches of ids."""
        customers, starts = await service.plan(
            self.pool, period=Period.parse(command.period), batch_size=self.batch_size
        )
        return Plan(customers=customers, starts=starts, parallel=self.parallel)

    @activity.defn(name=BILL_BATCH)
    async def bill_batch(self, command: BatchCommand) -> BatchResult:
        """Invoice one batch in one transaction, with its events and audit rows; a retry bills
        nobody twice."""
        totals = await service.bill_batch(
            self.pool,
            run_id=command.run_id,
            period=Period.parse(command.period),
            lo=command.lo,
            hi=command.hi,
            issued_on=command.issued_on,
            care_reasons=self.care_reasons,
            correction_months=self.correction_months,
        )
        return BatchResult(**totals.as_dict())

    @activity.defn(name=CLOSE_RUN)
    async def close_run(self, command: CloseRunCommand) -> None:
        """Mark the run completed or failed."""
        await service.close_run(
            self.pool, run_id=command.run_id, status=command.status, error=command.error
        )

    def all(self) -> list[Callable[..., Any]]:
        """Every activity, for the worker."""
        return [self.open_run, self.plan, self.bill_batch, self.close_run]


class HeldInvoiceActivities:
    """What the order lifecycle asks billing (interface in workflows/lifecycle_activities.py):
    a read, safe to retry."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @activity.defn(name="held_invoices_of_absence")
    async def held_invoices_of_absence(self, query: HeldInvoicesQuery) -> HeldInvoices:
        """The periods whose invoices of the customer are held for a long absence."""
        async with self.pool.acquire() as conn:
            periods = await repository.held_for_long_absence(
                conn,
                customer_id=query.customer_id,
                first_day=query.first_day,
                last_day=query.last_day,
            )
        return HeldInvoices(periods=[p.strftime("%Y-%m") for p in periods])


def activities(pool: asyncpg.Pool, settings: Settings) -> list[Callable[..., Any]]:
    """The billing run's activities, and the lifecycle's question of held invoices, on the
    shared pool."""
    billing = BillingActivities(
        pool,
        care_reasons=settings.care_absence_reasons,
        batch_size=settings.billing_batch_size,
        parallel=settings.billing_parallel,
        correction_months=settings.billing_correction_months,
    )
    return [*billing.all(), HeldInvoiceActivities(pool).held_invoices_of_absence]
