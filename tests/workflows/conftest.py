"""Workflow tests on Temporal's time-skipping test server, with recorded fake activities."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator

import pytest
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from lifecare.worker import ensure_search_attributes
from services.common.settings import Settings
from services.common.temporal import data_converter
from tests.workflows.fakes import TEST_SERVER, FakeOrderActivities
from workflows.order_lifecycle import OrderLifecycle


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server for each test module: its clock moves only while no workflow
    anywhere on it has work in flight, so one module's leftovers must not hold the next
    module's sleeps (they timed out so, now and then, in full runs)."""
    environment = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(Settings(env="test")),  # payloads encrypted
        test_server_existing_path=str(TEST_SERVER),
    )
    await ensure_search_attributes(environment.client, environment.client.namespace)
    yield environment
    await environment.shutdown()


@pytest.fixture
async def fakes(env: WorkflowEnvironment) -> AsyncIterator[FakeOrderActivities]:
    activities = FakeOrderActivities()
    async with Worker(
        env.client,
        task_queue=f"test-{uuid.uuid4()}",
        workflows=[OrderLifecycle],
        activities=activities.all(),
    ) as worker:
        activities.task_queue = worker.task_queue
        yield activities
        # a workflow left running would hold the test server's clock for the next test
        for handle in activities.handles:
            with contextlib.suppress(RPCError):
                await handle.terminate("test over")
