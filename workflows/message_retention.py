"""MessageRetention: the inbox is not an archive; a daily run deletes what is too old."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.client import (
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows.messaging_activities import (
        MessagingActivities,
        RetentionRequest,
        RetentionResult,
    )

SCHEDULE_ID = "message-retention"
# every night at 03:30 in Stockholm, when nobody reads their inbox
DAILY = ScheduleSpec(cron_expressions=["30 3 * * *"], time_zone_name="Europe/Stockholm")


@workflow.defn
class MessageRetention:
    """Deletes messages older than the retention with their files; returns how many."""

    @workflow.run
    async def run(self, request: RetentionRequest) -> RetentionResult:
        return await workflow.execute_activity_method(
            MessagingActivities.delete_old_messages,
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
