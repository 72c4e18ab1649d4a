"""How the billing service starts a month's BillingRun and waits for one: typed functions,
so no caller names the workflow by string or builds its input."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

from temporalio.client import Client

from workflows.billing_models import BillingRunInput, Period, billing_run_id

__all__ = ["billing_run_id", "start_run", "wait_for_run"]


async def start_run(
    client: Client, *, period: Period, run_id: uuid.UUID, requested_by: str, task_queue: str
) -> str:
    """Start `billing-run-<period>` for the run row `run_id`; returns its workflow id.

    Raises temporalio's WorkflowAlreadyStartedError while another run of the month is open.
    """
    workflow_id = billing_run_id(period)
    await client.start_workflow(
        "BillingRun",
        BillingRunInput(period=str(period), run_id=run_id, requested_by=requested_by),
        id=workflow_id,
        task_queue=task_queue,
    )
    return workflow_id


async def wait_for_run(client: Client, *, period: Period, at_most: float) -> None:
    """Wait up to `at_most` seconds for the month's open run to close, however it ends."""
    with contextlib.suppress(Exception):
        await asyncio.wait_for(client.get_workflow_handle(billing_run_id(period)).result(), at_most)
