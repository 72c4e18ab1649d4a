"""Record the histories that the replay test replays: `python -m tests.workflows.record_histories`.

Run it only to add a new recorded history; the files it writes are committed. A change to
OrderLifecycle that cannot replay them would break workflows already running in production.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import timedelta
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from services.orders.domain import today_in_stockholm
from tests.workflows.fakes import TEST_SERVER, FakeOrderActivities, start_lifecycle
from workflows.models import (
    Actor,
    ConfirmRequest,
    EndRequest,
    InvoiceIssued,
    WithdrawRequest,
)
from workflows.order_lifecycle import OrderLifecycle
from workflows.worker import ensure_search_attributes

HISTORIES = Path(__file__).parent / "histories"
PROVIDER = Actor(sub="anna", role="provider", unit="solbacken")


async def record() -> None:
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter, test_server_existing_path=str(TEST_SERVER)
    )
    await ensure_search_attributes(env.client, env.client.namespace)
    fakes = FakeOrderActivities()
    async with Worker(
        env.client, task_queue="record", workflows=[OrderLifecycle], activities=fakes.all()
    ):
        now = await env.get_current_time()
        today = today_in_stockholm(now)

        # the whole life: reminded, confirmed ahead, started, ended, last month invoiced
        full = await start_lifecycle(env.client, "record", decision_date=today, created_at=now)
        await env.sleep(timedelta(days=4))
        start = today + timedelta(days=6)
        await full.execute_update(
            OrderLifecycle.confirm, ConfirmRequest(start_date=start, actor=PROVIDER)
        )
        await env.sleep(timedelta(days=3))
        end = start + timedelta(days=45)
        await full.execute_update(
            OrderLifecycle.end,
            EndRequest(end_date=end, reason="moved_home", confirmed=True, actor=PROVIDER),
        )
        await full.signal(
            OrderLifecycle.invoice_issued,
            InvoiceIssued(event_id=uuid.uuid4(), period=end.strftime("%Y-%m")),
        )
        await full.result()

        withdrawn = await start_lifecycle(env.client, "record", decision_date=today, created_at=now)
        await withdrawn.execute_update(
            OrderLifecycle.withdraw,
            WithdrawRequest(reason="Kunden tackade nej", actor=Actor(sub="c", role="caseworker")),
        )
        await withdrawn.result()

        for name, handle in (("full_life", full), ("withdrawn", withdrawn)):
            history = await handle.fetch_history()
            (HISTORIES / f"order_lifecycle_{name}.json").write_text(history.to_json())
    await env.shutdown()


if __name__ == "__main__":
    asyncio.run(record())
    os._exit(0)  # skip interpreter teardown, which the Temporal SDK can abort (sdk-python #300)
