"""The worker, the composition root of the workflows: every workflow of `workflows/`, the
activities each service implements, and the event bridge, all named by the registry."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from typing import Any

import asyncpg
from prometheus_client import generate_latest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client, Schedule, ScheduleAlreadyRunningError
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import UnsandboxedWorkflowRunner, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from lifecare.health import serve_health
from services.common import registry, temporal, tracing
from services.common.bus.metrics import measure_dead_letters
from services.common.db import create_pool
from services.common.settings import Settings, get_settings

log = logging.getLogger(__name__)

SEARCH_ATTRIBUTES = registry.load(registry.WORKER.search_attributes)


def workflows() -> list[type]:
    """Every workflow the worker runs."""
    return [registry.load(path) for path in registry.WORKER.workflows]


def activities(pool: asyncpg.Pool, settings: Settings) -> list[Callable[..., Any]]:
    """Every service's activities, each on the shared pool (one database, a schema each)."""
    found: list[Callable[..., Any]] = []
    for service in registry.SERVICES:
        if service.activities:
            found.extend(registry.load(service.activities)(pool, settings))
    return found


async def ensure_schedules(client: Client, task_queue: str) -> None:
    """Create every schedule of the registry that is missing."""
    for schedule_id, factory in registry.WORKER.schedules:
        await ensure_schedule(
            client, registry.load(schedule_id), registry.load(factory)(task_queue)
        )


async def connect(settings: Settings) -> Client:
    """The platform's Temporal client (pydantic payloads, encrypted, traced), on a runtime
    that serves the SDK's metrics to Prometheus where `worker_metrics_port` says."""
    return await temporal.connect(settings, runtime=metrics_runtime(settings))


def metrics_runtime(settings: Settings) -> Runtime | None:
    """A Temporal runtime serving the SDK's metrics (workflow task failures, schedule to
    start latency, slots in use, ...) at `GET /metrics` on every interface's
    `worker_metrics_port`; None (the default runtime, no metrics) when it is 0, and when
    the port is taken (a warning: as with the health port, the worker works on unwatched)."""
    if not settings.worker_metrics_port:
        return None
    address = f"0.0.0.0:{settings.worker_metrics_port}"
    try:
        return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address)))
    except ValueError as exc:  # the SDK's "Failed starting Prometheus exporter: ..."
        log.warning("worker metrics port %s not opened: %s", settings.worker_metrics_port, exc)
        return None


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


def build_worker(client: Client, settings: Settings, pool: asyncpg.Pool) -> Worker:
    """A worker for the platform's task queue, traced: a client of `temporal.connect`
    brings its tracing interceptor, any other client (a test's) gets one here."""
    traced = any(isinstance(i, TracingInterceptor) for i in client.config()["interceptors"])
    return Worker(
        client,
        task_queue=settings.task_queue,
        interceptors=[] if traced else [tracing.interceptor()],
        workflows=workflows(),
        activities=activities(pool, settings),
        # more concurrent polls than the SDK's default 5, and sticky queues polled as often
        # as the shared one: with updates that a person waits for, a task must not sit
        # queued behind a busy poller (bench/README.md has the figures)
        max_concurrent_workflow_task_polls=20,
        nonsticky_to_sticky_poll_ratio=1.0,
        max_concurrent_activity_task_polls=20,
        max_cached_workflows=settings.worker_cached_workflows,
        # on SIGTERM running activities finish (or are cancelled after the grace); the
        # workflows are left to the other workers
        graceful_shutdown_timeout=settings.shutdown_grace,
        workflow_runner=(
            SandboxedWorkflowRunner() if settings.workflow_sandbox else UnsandboxedWorkflowRunner()
        ),
    )


async def run(settings: Settings | None = None) -> None:
    """Run the worker until SIGINT or SIGTERM, then shut it down gracefully."""
    settings = settings or get_settings()
    tracing.setup(settings, "worker")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    client = await connect(settings)
    await ensure_search_attributes(client, settings.temporal_namespace)
    await ensure_schedules(client, settings.task_queue)
    pool = await create_pool(settings.database_dsn, max_size=settings.db_pool_max)
    bridge_type = registry.load(registry.WORKER.bridge)
    bridge_consumer = bridge_type(client, settings)
    bridge = asyncio.create_task(bridge_consumer.run(), name="bridge")

    async def reaches_its_database() -> bool:
        async with pool.acquire(timeout=2) as conn:
            return bool(await conn.fetchval("SELECT true"))

    async def metrics() -> bytes:
        try:
            await asyncio.wait_for(
                measure_dead_letters(str(settings.amqp_url), [bridge_consumer.queue_name]), 5
            )
        except Exception as exc:  # the broker down or the queue not declared yet
            log.warning("dead-letter depth not read: %s", type(exc).__name__)
        return generate_latest()

    health = None
    try:
        async with build_worker(client, settings, pool):
            log.info("worker polling task queue %s", settings.task_queue)
            if settings.worker_health_port:
                health = await serve_health(
                    settings.worker_health_port, reaches_its_database, metrics
                )
            await stop.wait()
            log.info("worker stopping")
    finally:
        if health is not None:
            health.close()
        bridge.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await bridge
        await pool.close()
