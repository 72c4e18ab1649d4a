"""The Schedule `monthly-billing`: at 02:00 on the 1st, Stockholm time, bill the month before.

The worker creates it when it is missing (`worker.ensure_schedule`)."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)

from workflows.billing_models import SCHEDULED_RUN_ID, BillingRunInput
from workflows.billing_run import BillingRun

CRON = "0 2 1 * *"
TIME_ZONE = "Europe/Stockholm"


def billing_schedule(task_queue: str) -> Schedule:
    """Start BillingRun without a period: it bills the month before the day it runs."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            BillingRun.run, BillingRunInput(), id=SCHEDULED_RUN_ID, task_queue=task_queue
        ),
        spec=ScheduleSpec(cron_expressions=[CRON], time_zone_name=TIME_ZONE),
        # a worker down at 02:00 still bills the month when it is back within a week
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(days=7)),
    )
