"""Record the histories that the replay test replays: `python -m tests.workflows.record_histories`.

Run it only to add a new recorded history: it records the scenarios whose file is missing
and never touches one that exists. The files are committed. A change to OrderLifecycle that
cannot replay them would break workflows already running in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path

from temporalio.client import WorkflowContinuedAsNewError, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from lifecare.worker import ensure_search_attributes
from services.common.dates import today_in_stockholm
from tests.workflows.fakes import TEST_SERVER, FakeOrderActivities, start_lifecycle
from workflows.models import (
    AbsenceChange,
    Actor,
    ConfirmRequest,
    EndRequest,
    InvoiceIssued,
    WithdrawRequest,
)
from workflows.order_lifecycle import OrderLifecycle

HISTORIES = Path(__file__).parent / "histories"
PROVIDER = Actor(sub="anna", role="provider", unit="solbacken")


async def _end_and_complete(handle: WorkflowHandle, end: date) -> WorkflowHandle:
    """End the stay, then invoice its last month, which completes the lifecycle."""
    await handle.execute_update(
        OrderLifecycle.end,
        EndRequest(end_date=end, reason="moved_home", confirmed=True, actor=PROVIDER),
    )
    await handle.signal(
        OrderLifecycle.invoice_issued,
        InvoiceIssued(event_id=uuid.uuid4(), period=end.strftime("%Y-%m")),
    )
    await handle.result()
    return handle


async def _full_life(env: WorkflowEnvironment) -> WorkflowHandle:
    """The whole life: reminded, confirmed ahead, started, ended, last month invoiced."""
    now = await env.get_current_time()
    today = today_in_stockholm(now)
    full = await start_lifecycle(env.client, "record", decision_date=today, created_at=now)
    await env.sleep(timedelta(days=4))
    start = today + timedelta(days=6)
    await full.execute_update(
        OrderLifecycle.confirm, ConfirmRequest(start_date=start, actor=PROVIDER)
    )
    await env.sleep(timedelta(days=3))
    return await _end_and_complete(full, start + timedelta(days=45))


async def _withdrawn(env: WorkflowEnvironment) -> WorkflowHandle:
    now = await env.get_current_time()
    today = today_in_stockholm(now)
    withdrawn = await start_lifecycle(env.client, "record", decision_date=today, created_at=now)
    await withdrawn.execute_update(
        OrderLifecycle.withdraw,
        WithdrawRequest(reason="Kunden tackade nej", actor=Actor(sub="c", role="caseworker")),
    )
    await withdrawn.result()
    return withdrawn


async def _absence_escalated(env: WorkflowEnvironment) -> WorkflowHandle:
    """Absences: one left open past 30 days (escalated, then ended), one repeated, one removed."""
    now = await env.get_current_time()
    today = today_in_stockholm(now)
    handle = await start_lifecycle(env.client, "record", decision_date=today, created_at=now)
    await handle.execute_update(
        OrderLifecycle.confirm, ConfirmRequest(start_date=today, actor=PROVIDER)
    )
    long = AbsenceChange(
        event_id=uuid.uuid4(),
        absence_id=uuid.uuid4(),
        revision=1,
        reason="hospital",
        from_date=today + timedelta(days=1),
    )
    await handle.signal(OrderLifecycle.absence_changed, long)
    await handle.signal(OrderLifecycle.absence_changed, long)  # delivered twice
    await env.sleep(timedelta(days=33))
    ended = long.model_copy(
        update={"event_id": uuid.uuid4(), "revision": 2, "to_date": today + timedelta(days=33)}
    )
    await handle.signal(OrderLifecycle.absence_changed, ended)
    mistake = AbsenceChange(
        event_id=uuid.uuid4(),
        absence_id=uuid.uuid4(),
        revision=1,
        reason="vacation",
        from_date=today + timedelta(days=35),
        to_date=today + timedelta(days=36),
    )
    await handle.signal(OrderLifecycle.absence_changed, mistake)
    await handle.signal(
        OrderLifecycle.absence_changed,
        mistake.model_copy(update={"event_id": uuid.uuid4(), "revision": 2, "removed": True}),
    )
    await env.sleep(timedelta(days=2))
    return await _end_and_complete(handle, today + timedelta(days=40))


async def _month_invoiced(env: WorkflowEnvironment) -> WorkflowHandle:
    """An ongoing stay's first month invoiced: the run continues as new (this run is kept)."""
    now = await env.get_current_time()
    today = today_in_stockholm(now)
    handle = await start_lifecycle(env.client, "record", decision_date=today, created_at=now)
    await handle.execute_update(
        OrderLifecycle.confirm, ConfirmRequest(start_date=today, actor=PROVIDER)
    )
    await env.sleep(timedelta(days=35))
    await handle.signal(
        OrderLifecycle.invoice_issued,
        InvoiceIssued(event_id=uuid.uuid4(), period=today.strftime("%Y-%m")),
    )
    first = env.client.get_workflow_handle(handle.id, run_id=handle.first_execution_run_id)
    with contextlib.suppress(WorkflowContinuedAsNewError):
        await first.result(follow_runs=False)  # this run closes as the next one starts
    await handle.terminate("recorded")  # the next run
    return first


Scenario = Callable[[WorkflowEnvironment], Awaitable[WorkflowHandle]]
SCENARIOS: dict[str, Scenario] = {
    "full_life": _full_life,
    "withdrawn": _withdrawn,
    "absence_escalated": _absence_escalated,
    "month_invoiced": _month_invoiced,
}


# The version of OrderLifecycle the next recording captures. Bump it with each
# `workflow.patched` so histories of every version stay and keep replaying:
# v1 (no suffix) ran every orders write as a regular activity; v2 runs them as local ones;
# v3 confirms an order whose start date has come and starts its execution in one write;
# v4 sends the final count of an escalated absence when it ends or is removed;
# v5 continues an ongoing stay as new once a month of it is invoiced.
VERSION = "_v5"


async def record() -> None:
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter, test_server_existing_path=str(TEST_SERVER)
    )
    await ensure_search_attributes(env.client, env.client.namespace)
    fakes = FakeOrderActivities()
    async with Worker(
        env.client, task_queue="record", workflows=[OrderLifecycle], activities=fakes.all()
    ):
        for name, scenario in SCENARIOS.items():
            path = HISTORIES / f"order_lifecycle_{name}{VERSION}.json"
            if path.exists():
                print(f"{path.name}: recorded already, left as it is")
                continue
            handle = await scenario(env)
            path.write_text((await handle.fetch_history()).to_json())
            print(f"{path.name}: recorded")
    await env.shutdown()


if __name__ == "__main__":
    asyncio.run(record())
    os._exit(0)  # skip interpreter teardown, which the Temporal SDK can abort (sdk-python #300)
