"""MessageRetention: the inbox is not an archive; a daily run deletes what is too old."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, Field
from temporalio import activity, workflow
from temporalio.client import (
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)
from temporalio.common import RetryPolicy

SCHEDULE_ID = "message-retention"
# every night at 03:30 in Stockholm, when nobody reads their inbox
DAILY = ScheduleSpec(cron_expressions=["30 3 * * *"], time_zone_name="Europe/Stockholm")


class RetentionRequest(BaseModel):
    """Delete what is older than `older_than` seconds; without it, the configured retention."""

    older_than: float | None = Field(
        default=None, description="seconds; None: LIFECARE_MESSAGE_RETENTION"
    )


class RetentionResult(BaseModel):
    """How many messages and files the run removed, and the retention it applied."""

    messages: int
    files: int
    retention_seconds: float


@activity.defn(name="delete_old_messages")
async def delete_old_messages(request: RetentionRequest) -> RetentionResult:
    """Delete older messages and the files only they carried (services.messaging.activities)."""
    raise NotImplementedError("an interface: the worker runs the messaging service's activity")


@workflow.defn
class MessageRetention:
    """Deletes messages older than the retention with their files; returns how many."""

    @workflow.run
    async def run(self, request: RetentionRequest) -> RetentionResult:
        return await workflow.execute_activity(
            delete_old_messages,
            request,
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)),
        )


def retention_schedule(task_queue: str) -> Schedule:
    """The `message-retention` schedule: MessageRetention daily, never two at once."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            MessageRetention.run, RetentionRequest(), id=SCHEDULE_ID, task_queue=task_queue
        ),
        spec=DAILY,
        policy=SchedulePolicy(
            overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(hours=12)
        ),
    )
