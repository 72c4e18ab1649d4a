"""Activities of the BillingRun: each one transaction on the billing schema, safe to retry."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg
from temporalio import activity

from services.billing import domain, events, repository
from services.billing.domain import Period
from services.common.errors import Invalid
from workflows.billing_models import (
    BatchCommand,
    BatchResult,
    CloseRunCommand,
    OpenRunCommand,
    OpenRunResult,
    Plan,
    PlanCommand,
)


class BillingActivities:
    """Holds the pool, the absence reasons that spare the care fee, and how a run is cut:
    customers per batch, batches at a time."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        care_reasons: Sequence[str],
        batch_size: int = 5000,
        parallel: int = 2,
    ) -> None:
        self.pool = pool
        self.care_reasons = list(care_reasons)
        self.batch_size = batch_size
        self.parallel = parallel

    @activity.defn(name="billing_open_run")
    async def open_run(self, command: OpenRunCommand) -> OpenRunResult:
        """Record the run as running, or say why the month cannot be billed."""
        period = Period.parse(command.period)
        async with self.pool.acquire() as conn, conn.transaction():
            tariffs = await repository.tariffs_in_force(conn, period=period)
            await repository.open_run(
                conn,
                id=command.run_id,
                period=period,
                workflow_id=command.workflow_id,
                requested_by=command.requested_by,
            )
        try:
            domain.check_tariffs(period, food=tariffs["food"], care_max=tariffs["care_max"])
        except Invalid as exc:
            return OpenRunResult(refusal=exc.message)
        return OpenRunResult()

    @activity.defn(name="billing_plan")
    async def plan(self, command: PlanCommand) -> Plan:
        """The customers the month has to bill, cut into batches of ids."""
        async with self.pool.acquire() as conn:
            customers, starts = await repository.plan_batches(
                conn, period=Period.parse(command.period), batch_size=self.batch_size
            )
        return Plan(customers=customers, starts=starts, parallel=self.parallel)

    @activity.defn(name="billing_bill_batch")
    async def bill_batch(self, command: BatchCommand) -> BatchResult:
        """Invoice one batch in one transaction, with its events and audit rows; a retry bills
        nobody twice."""
        async with self.pool.acquire() as conn, conn.transaction():
            totals = await repository.bill_batch(
                conn,
                run_id=command.run_id,
                period=Period.parse(command.period),
                lo=command.lo,
                hi=command.hi,
                care_reasons=self.care_reasons,
                long_absence_days=domain.LONG_ABSENCE_DAYS,
                days_per_month=domain.DAYS_PER_MONTH,
                issued_on=command.issued_on,
                events=events.INVOICE_EVENTS,
            )
            await repository.count_batch(conn, id=command.run_id, totals=totals)
        return BatchResult(**totals)

    @activity.defn(name="billing_close_run")
    async def close_run(self, command: CloseRunCommand) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await repository.finish_run(
                conn, id=command.run_id, status=command.status, error=command.error
            )

    def all(self) -> list:  # type: ignore[type-arg]
        """Every activity, for the worker."""
        return [self.open_run, self.plan, self.bill_batch, self.close_run]
