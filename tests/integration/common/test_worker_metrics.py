"""The worker serves the Temporal SDK's metrics for Prometheus on `worker_metrics_port`:
its pollers, slots and workflow task outcomes, which the alert on failing workflow tasks
reads."""

from __future__ import annotations

import socket
import uuid

import httpx
from temporalio.client import Client

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


def test_no_metrics_port_means_no_metrics_runtime(settings):
    assert metrics_runtime(settings.model_copy(update={"worker_metrics_port": 0})) is None


def test_a_taken_metrics_port_is_warned_about_not_fatal(settings, caplog):
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert metrics_runtime(settings.model_copy(update={"worker_metrics_port": port})) is None
    assert f"worker metrics port {port} not opened" in caplog.text
