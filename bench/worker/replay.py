"""What a cache miss costs the worker by the length of the run it replays.

    .venv/bin/python -m bench.worker.replay [--signals 0 10 50 250] [--repeat 7]

On the time-skipping server (no database, fake activities) a confirmed stay takes N absence
signals, one after the other (each a few history events, as a busy stay's months would add
them), then its history is replayed `--repeat` times with the worker's runner (unsandboxed)
and the platform's data converter; the median time per replay is printed by history length.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from datetime import timedelta

if __name__ == "__main__" and not __package__:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(__file__))) or ".")

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner, Worker

from lifecare.worker import ensure_search_attributes
from services.common.dates import today_in_stockholm
from services.common.settings import Settings
from services.common.temporal import data_converter
from tests.workflows.fakes import TEST_SERVER, FakeOrderActivities, start_lifecycle
from workflows.models import AbsenceChange, Actor, ConfirmRequest
from workflows.order_lifecycle import OrderLifecycle


async def measure(signals: list[int], repeat: int) -> list[tuple[int, int, float]]:
    converter = data_converter(Settings(env="test"))
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=converter, test_server_existing_path=str(TEST_SERVER)
    )
    await ensure_search_attributes(env.client, env.client.namespace)
    fakes = FakeOrderActivities()
    replayer = Replayer(
        workflows=[OrderLifecycle],
        data_converter=converter,
        workflow_runner=UnsandboxedWorkflowRunner(),
    )
    rows = []
    async with Worker(
        env.client, task_queue="replay", workflows=[OrderLifecycle], activities=fakes.all()
    ):
        for count in signals:
            now = await env.get_current_time()
            today = today_in_stockholm(now)
            handle = await start_lifecycle(
                env.client, "replay", decision_date=today, created_at=now
            )
            actor = Actor(sub="bench", role="provider", unit="solbacken")
            await handle.execute_update(
                OrderLifecycle.confirm, ConfirmRequest(start_date=today, actor=actor)
            )
            for n in range(count):
                first = today + timedelta(days=2 + n % 300)
                change = AbsenceChange(
                    event_id=uuid.uuid4(),
                    absence_id=uuid.uuid4(),
                    revision=1,
                    reason="relatives",
                    from_date=first,
                    to_date=first + timedelta(days=1),
                )
                await handle.signal(OrderLifecycle.absence_changed, change)
                await handle.query(OrderLifecycle.status)  # taken in before the next
            history = await handle.fetch_history()
            await handle.terminate("measured")
            times = []
            for _ in range(repeat):
                began = time.perf_counter()
                await replayer.replay_workflow(history, raise_on_replay_failure=True)
                times.append(time.perf_counter() - began)
            rows.append((count, len(history.events), statistics.median(times) * 1000))
    await env.shutdown()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--signals", type=int, nargs="+", default=[0, 10, 50, 250])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    rows = asyncio.run(measure(args.signals, args.repeat))
    print("signals  events  replay median ms")
    for count, events, ms in rows:
        print(f"{count:7d}  {events:6d}  {ms:16.1f}")
    print(f"load average {os.getloadavg()}")
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown, which the Temporal SDK can abort (sdk-python #300)


if __name__ == "__main__":
    main()
