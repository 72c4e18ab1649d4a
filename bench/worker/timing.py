"""When a worker handled a signal, read from the workflow's history; percentiles."""

from __future__ import annotations

import math

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle


async def handled_after_signal(
    handle: WorkflowHandle, signal: str = "absence_changed"
) -> tuple[float, float]:
    """Seconds from the signal's `WorkflowExecutionSignaled` event to the first
    `WorkflowTaskCompleted` after it (the server's clock): how long the worker took to take
    the signal in, replaying the run first if it was not in its cache; and of those, the
    seconds from that task's `WorkflowTaskStarted` (the worker has it) to its completion.
    Follows the history as it grows until that task completes."""
    signalled = started = None
    async for event in handle.fetch_history_events(wait_new_event=True):
        kind, at = event.event_type, event.event_time.ToDatetime()
        if (
            kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
            and event.workflow_execution_signaled_event_attributes.signal_name == signal
        ):
            signalled = at
        elif signalled is not None and kind == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
            started = at
        elif started is not None and kind == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            return (at - signalled).total_seconds(), (at - started).total_seconds()
    raise RuntimeError(f"{handle.id}: no workflow task completed after the signal")


def percentile(values: list[float], p: float) -> float:
    """The nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]
