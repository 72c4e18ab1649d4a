"""BillingRun on the time-skipping server, with fake activities that record what it asked."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator

import pytest
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from services.billing.domain import period_to_bill
from services.common.dates import today_in_stockholm
from tests.workflows.fakes import STARTS, FakeBillingActivities
from workflows.billing_models import (
    BatchResult,
    BillingRunInput,
    BillingRunResult,
    CloseRunCommand,
    OpenRunCommand,
    PlanCommand,
    billing_run_id,
)
from workflows.billing_run import BillingRun


@pytest.fixture
async def billing(env: WorkflowEnvironment) -> AsyncIterator[FakeBillingActivities]:
    fakes = FakeBillingActivities()
    async with Worker(
        env.client,
        task_queue=f"test-{uuid.uuid4()}",
        workflows=[BillingRun],
        activities=fakes.all(),
    ) as worker:
        fakes.task_queue = worker.task_queue
        yield fakes
        for handle in fakes.handles:  # a workflow left running would hold the clock
            with contextlib.suppress(RPCError):
                await handle.terminate("test over")


async def test_a_run_bills_every_batch_with_one_activity_each_and_reports(env, billing):
    run_id = uuid.uuid4()
    handle = await billing.start(
        env.client,
        BillingRunInput(period="2026-10", run_id=run_id, requested_by="frida"),
        billing_run_id("2026-10"),
    )
    result = await handle.result()

    assert billing.opened == [
        OpenRunCommand(
            run_id=run_id,
            period="2026-10",
            workflow_id="billing-run-2026-10",
            requested_by="frida",
        )
    ]
    assert billing.plans == [PlanCommand(period="2026-10")]
    # five id ranges that together cover every id, each billed by one activity
    ranges = sorted(((b.lo, b.hi) for b in billing.batches), key=lambda r: r[0] or uuid.UUID(int=0))
    assert ranges == list(zip([None, *STARTS], [*STARTS, None], strict=True))
    assert {b.period for b in billing.batches} == {"2026-10"}
    assert len({b.issued_on for b in billing.batches}) == 1
    assert result.customers == 9_000 and result.batches == 5
    assert result.invoices == BatchResult(issued=45, held=5, total=500_000)
    assert billing.closed == [CloseRunCommand(run_id=run_id, status="completed")]


async def test_a_month_without_tariffs_is_refused_and_the_run_marked_failed(env, billing):
    billing.refusal = "there is no food tariff for 2026-10; set it with PUT /tariffs"
    handle = await billing.start(
        env.client, BillingRunInput(period="2026-10"), billing_run_id("2026-10")
    )
    with pytest.raises(WorkflowFailureError) as caught:
        await handle.result()
    cause = caught.value.cause
    assert isinstance(cause, ApplicationError) and cause.non_retryable
    assert cause.message == billing.refusal
    assert billing.plans == [] and billing.batches == []
    [closed] = billing.closed
    assert (closed.status, closed.error) == ("failed", billing.refusal)
    assert closed.run_id == billing.opened[0].run_id  # a run id made up by the workflow


async def test_a_batch_refused_for_good_fails_the_run_and_marks_it(env, billing):
    billing.failing_batch, billing.parallel = 1, 1
    handle = await billing.start(
        env.client, BillingRunInput(period="2026-10"), billing_run_id("2026-10")
    )
    with pytest.raises(WorkflowFailureError):
        await handle.result()
    assert len(billing.batches) == 1
    [closed] = billing.closed
    assert closed.status == "failed" and "no tariff" in (closed.error or "")


async def test_the_scheduled_run_bills_the_previous_month_under_its_own_id(env, billing):
    month = str(period_to_bill(today_in_stockholm(await env.get_current_time())))
    handle = await billing.start(env.client, BillingRunInput(), "billing-run-scheduled")
    result = await handle.result()

    assert result.period == month
    assert [o.workflow_id for o in billing.opened] == [billing_run_id(month)]
    assert billing.opened[0].requested_by == "schedule"
    child = env.client.get_workflow_handle(billing_run_id(month), result_type=BillingRunResult)
    assert (await child.result()).run_id == result.run_id


async def test_a_period_that_is_no_month_fails_the_run_without_a_retry(env, billing):
    handle = await billing.start(
        env.client, BillingRunInput(period="2026-13"), billing_run_id("2026-13")
    )
    with pytest.raises(WorkflowFailureError):
        await handle.result()
    assert billing.opened == []
