"""BillingRun: invoice a month's fees, in batches of set-based SQL, one activity per batch."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from services.common.dates import today_in_stockholm
    from services.common.errors import Invalid
    from workflows import billing_models
    from workflows.billing_models import (
        BatchCommand,
        BatchResult,
        BillingRunInput,
        BillingRunResult,
        CloseRunCommand,
        OpenRunCommand,
        Period,
        PlanCommand,
        billing_run_id,
        period_to_bill,
    )

SHORT = timedelta(seconds=30)
BATCH_TIMEOUT = timedelta(minutes=10)
# the database may be down for a while: keep trying, but never a business refusal
RETRY = RetryPolicy(maximum_interval=timedelta(minutes=1), non_retryable_error_types=["refused"])


@workflow.defn
class BillingRun:
    """Opens the run, plans the batches, bills them a few at a time, then reports."""

    @workflow.run
    async def run(self, input: BillingRunInput) -> BillingRunResult:
        if input.period is None:
            return await self._run_for_last_month(input)
        try:
            period = str(Period.parse(input.period))
        except Invalid as exc:  # a refusal fails the run; it must not retry the task forever
            raise ApplicationError(exc.message, type="refused", non_retryable=True) from None
        run_id = input.run_id or workflow.uuid4()
        opened = await workflow.execute_activity(
            billing_models.open_run,
            OpenRunCommand(
                run_id=run_id,
                period=period,
                workflow_id=workflow.info().workflow_id,
                requested_by=input.requested_by,
            ),
            start_to_close_timeout=SHORT,
            retry_policy=RETRY,
        )
        if opened.refusal is not None:
            await self._close(run_id, "failed", opened.refusal)
            raise ApplicationError(opened.refusal, type="refused", non_retryable=True)
        try:
            result = await self._bill(run_id, period)
        except ActivityError as exc:
            await self._close(run_id, "failed", str(exc.cause or exc))
            raise
        await self._close(run_id, "completed")
        return result

    async def _run_for_last_month(self, input: BillingRunInput) -> BillingRunResult:
        """Started by the schedule: run `billing-run-<last month>` as a child and await it."""
        period = str(period_to_bill(today_in_stockholm(workflow.now())))
        return await workflow.execute_child_workflow(
            BillingRun.run,
            input.model_copy(update={"period": period}),
            id=billing_run_id(period),
        )

    async def _bill(self, run_id: uuid.UUID, period: str) -> BillingRunResult:
        plan = await workflow.execute_activity(
            billing_models.plan,
            PlanCommand(period=period),
            start_to_close_timeout=BATCH_TIMEOUT,
            retry_policy=RETRY,
        )
        # the ranges cover every id, so a customer who became billable meanwhile is billed too
        bounds: list[uuid.UUID | None] = [None, *plan.starts, None]
        batches = [
            BatchCommand(
                run_id=run_id,
                period=period,
                lo=lo,
                hi=hi,
                issued_on=today_in_stockholm(workflow.now()),
            )
            for lo, hi in itertools.pairwise(bounds)
        ]
        # `parallel` lanes, each billing its share of the batches one after the other
        lanes = [batches[lane :: plan.parallel] for lane in range(plan.parallel)]
        done = await asyncio.gather(*(self._bill_lane(lane) for lane in lanes if lane))
        total = sum(done, BatchResult())
        return BillingRunResult(
            run_id=run_id,
            period=period,
            customers=plan.customers,
            batches=len(batches),
            invoices=total,
        )

    async def _bill_lane(self, batches: list[BatchCommand]) -> BatchResult:
        total = BatchResult()
        for batch in batches:
            total += await workflow.execute_activity(
                billing_models.bill_batch,
                batch,
                start_to_close_timeout=BATCH_TIMEOUT,
                retry_policy=RETRY,
            )
        return total

    async def _close(self, run_id: uuid.UUID, status: str, error: str | None = None) -> None:
        await workflow.execute_activity(
            billing_models.close_run,
            CloseRunCommand(run_id=run_id, status=status, error=error),
            start_to_close_timeout=SHORT,
            retry_policy=RETRY,
        )
