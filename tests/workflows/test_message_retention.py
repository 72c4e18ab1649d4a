"""MessageRetention on the time-skipping server, with a stand-in for the database."""

from __future__ import annotations

import uuid

from temporalio.worker import Worker

from tests.workflows.fakes import FakeRetentionActivities
from workflows.message_retention import MessageRetention, RetentionRequest, RetentionResult


async def test_the_run_deletes_with_the_retention_asked_for_and_returns_the_counts(env):
    fakes = FakeRetentionActivities()
    queue = f"test-{uuid.uuid4()}"
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[MessageRetention],
        activities=[fakes.delete_old_messages],
    ):
        result = await env.client.execute_workflow(
            MessageRetention.run,
            RetentionRequest(older_than=86400),
            id=f"message-retention-{uuid.uuid4()}",
            task_queue=queue,
        )
    assert result == RetentionResult(messages=3, files=1, retention_seconds=86400)
    assert fakes.asked == [RetentionRequest(older_than=86400)]
