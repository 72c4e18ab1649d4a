"""The worker serves the Temporal SDK's metrics for Prometheus on `worker_metrics_port`:
its pollers, slots and workflow task outcomes, which the alert on failing workflow tasks
reads."""

from __future__ import annotations

import socket
import uuid

import httpx
from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import Worker

from lifecare.worker import build_worker, metrics_runtime
from services.common.temporal import data_converter
from tests.integration.conftest import wait_for
from tests.integration.serving import free_socket


async def test_the_worker_serves_the_sdks_metrics_on_its_metrics_port(temporal, settings, pool):
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()  # the SDK's own server binds it
    worker_settings = settings.model_copy(
        update={"worker_metrics_port": port, "task_queue": f"metrics-{uuid.uuid4().hex[:8]}"}
    )
    runtime = metrics_runtime(worker_settings)
    assert runtime is not None
    client = await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
        runtime=runtime,
    )
    async with build_worker(client, worker_settings, pool), httpx.AsyncClient() as http:

        async def served() -> str | None:
            try:
                answer = await http.get(f"http://127.0.0.1:{port}/metrics")
            except httpx.TransportError:
                return None
            text = answer.text
            return text if "temporal_worker_task_slots_available" in text else None

        text = await wait_for(served)
    assert f'task_queue="{worker_settings.task_queue}"' in text
    assert "temporal_num_pollers" in text


@workflow.defn(name="AlwaysFailingTask", sandboxed=False)
class AlwaysFailingTask:
    """A workflow whose every task fails (a bug, as a non-deterministic change would be)."""

    @workflow.run
    async def run(self) -> None:
        raise RuntimeError("a bug in the workflow code")


async def test_a_failing_workflow_task_is_counted_under_the_name_the_alert_reads(
    temporal, settings
):
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    runtime = metrics_runtime(settings.model_copy(update={"worker_metrics_port": port}))
    assert runtime is not None
    client = await Client.connect(
        settings.temporal_address, namespace=settings.temporal_namespace, runtime=runtime
    )
    queue = f"failing-{uuid.uuid4().hex[:8]}"
    async with (
        Worker(client, task_queue=queue, workflows=[AlwaysFailingTask]),
        httpx.AsyncClient() as http,
    ):
        handle = await client.start_workflow(
            AlwaysFailingTask.run, id=f"failing-{uuid.uuid4().hex[:8]}", task_queue=queue
        )

        async def counted() -> bool:
            text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
            return any(
                line.startswith("temporal_workflow_task_execution_failed{")
                and 'workflow_type="AlwaysFailingTask"' in line
                and float(line.rsplit(" ", 1)[1]) >= 1
                for line in text.splitlines()
            )

        await wait_for(counted, timeout=30)
        await handle.terminate()


def test_no_metrics_port_means_no_metrics_runtime(settings):
    assert metrics_runtime(settings.model_copy(update={"worker_metrics_port": 0})) is None


def test_a_taken_metrics_port_is_warned_about_not_fatal(settings, caplog):
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert metrics_runtime(settings.model_copy(update={"worker_metrics_port": port})) is None
    assert f"worker metrics port {port} not opened" in caplog.text
