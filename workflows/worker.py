"""The worker of task queue `lifecare`: every workflow and activity of the platform, and the
event bridge that signals absence events to the lifecycles."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Sequence

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client, Schedule, ScheduleAlreadyRunningError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import UnsandboxedWorkflowRunner, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from services.common import temporal
from services.common.db import create_pool
from services.common.settings import Settings, get_settings
from workflows.activities import OrderActivities
from workflows.billing_activities import BillingActivities
from workflows.billing_models import BILLING_SCHEDULE_ID
from workflows.billing_run import BillingRun
from workflows.billing_schedule import billing_schedule
from workflows.bridge import AbsenceBridge
from workflows.message_retention import SCHEDULE_ID, MessageRetention, retention_schedule
from workflows.messaging_activities import MessagingActivities
from workflows.models import SEARCH_ATTRIBUTES
from workflows.order_lifecycle import OrderLifecycle

log = logging.getLogger(__name__)

WORKFLOWS: Sequence[type] = (OrderLifecycle, MessageRetention)


async def connect(settings: Settings) -> Client:
    """The platform's Temporal client (pydantic payloads, encrypted)."""
    return await temporal.connect(settings)


async def ensure_search_attributes(client: Client, namespace: str) -> None:
    """Register the custom search attributes an operator filters by, if missing."""
    request = AddSearchAttributesRequest(
        namespace=namespace,
        search_attributes={
            key.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD for key in SEARCH_ATTRIBUTES
        },
    )
    try:
        await client.operator_service.add_search_attributes(request)
    except RPCError as exc:
        if exc.status != RPCStatusCode.ALREADY_EXISTS:
            raise


async def ensure_schedule(client: Client, schedule_id: str, schedule: Schedule) -> None:
    """Create a schedule if it is missing; one that exists is left as operators keep it."""
    try:
        await client.create_schedule(schedule_id, schedule)
    except ScheduleAlreadyRunningError:
        pass


def build_worker(
    client: Client,
    settings: Settings,
    activities: OrderActivities,
    messaging: MessagingActivities | None = None,
) -> Worker:
    """A worker for the platform's task queue."""
    # billing's activities share the pool: one database, each service its own schema
    billing = BillingActivities(
        activities.pool,
        care_reasons=settings.care_absence_reasons,
        batch_size=settings.billing_batch_size,
        parallel=settings.billing_parallel,
    )
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[*WORKFLOWS, BillingRun],
        activities=[
            activities.confirm_order,
            activities.withdraw_order,
            activities.end_execution,
            activities.start_execution,
            activities.request_notification,
            activities.escalate_absence,
            *billing.all(),
            *([messaging.delete_old_messages] if messaging else []),
        ],
        # more concurrent polls than the SDK's default 5, and sticky queues polled as often
        # as the shared one: with updates that a person waits for, a task must not sit
        # queued behind a busy poller (bench/README.md has the figures)
        max_concurrent_workflow_task_polls=20,
        nonsticky_to_sticky_poll_ratio=1.0,
        max_concurrent_activity_task_polls=20,
        workflow_runner=(
            SandboxedWorkflowRunner() if settings.workflow_sandbox else UnsandboxedWorkflowRunner()
        ),
    )


async def run(settings: Settings | None = None) -> None:
    """Run the worker until SIGINT or SIGTERM, then shut it down gracefully."""
    settings = settings or get_settings()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    client = await connect(settings)
    await ensure_search_attributes(client, settings.temporal_namespace)
    await ensure_schedule(client, BILLING_SCHEDULE_ID, billing_schedule(settings.task_queue))
    await ensure_schedule(client, SCHEDULE_ID, retention_schedule(settings.task_queue))
    pool = await create_pool(settings.database_dsn, max_size=settings.db_pool_max)
    bridge = asyncio.create_task(AbsenceBridge(client, settings, pool).run(), name="bridge")
    try:
        messaging = MessagingActivities(pool, retention=settings.message_retention)
        async with build_worker(client, settings, OrderActivities(pool), messaging):
            log.info("worker polling task queue %s", settings.task_queue)
            await stop.wait()
            log.info("worker stopping")
    finally:
        bridge.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await bridge
        await pool.close()
