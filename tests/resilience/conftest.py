"""Resilience tests against the real stack: a Temporal dev server and a database of the
session (on a private PostgreSQL server), the worker as a process that can be killed,
private RabbitMQ and PostgreSQL instances that can be stopped.

Each test is bounded (about a minute on an idle machine; the figures are printed and kept
in docs/RELIABILITY.md). The personal-data check of the integration tests runs here too,
over the logs of the processes these tests start.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import aio_pika
import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from temporalio.testing import WorkflowEnvironment

from services.common import registry
from services.common.bus import declare_queue, declare_queues
from services.common.migrations import upgrade_all
from services.common.settings import Settings
from tests.integration.conftest import (  # noqa: F401  (fixtures reused here)
    SERVER_DSN,
    Tokens,
    no_personal_data_in_logs,
    temporal,
)
from tests.integration.helpers import new_customer, new_order
from tests.resilience.stack import PG_BIN, PrivatePostgres


@pytest.fixture(scope="session")
async def database() -> AsyncIterator[str]:
    """A migrated database on a PostgreSQL server of this session alone (the machine's
    shared server has connections enough for one test session, not two of them)."""
    if PG_BIN is None:  # no server programs here: a database on the shared server
        name = f"lifecare_rs_{uuid.uuid4().hex[:10]}"
        admin = await asyncpg.connect(f"{SERVER_DSN}/postgres")
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            await upgrade_all(registry.schemas(), f"{SERVER_DSN}/{name}")
            yield f"{SERVER_DSN}/{name}"
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
        return
    server = PrivatePostgres()
    try:
        server.start()
        admin = await asyncpg.connect(server.dsn)
        await admin.execute("CREATE DATABASE lifecare")
        await admin.close()
        dsn = server.dsn.rsplit("/", 1)[0] + "/lifecare"
        await upgrade_all(registry.schemas(), dsn)
        yield dsn
    finally:
        server.remove()


@pytest.fixture(scope="session")
def settings(temporal: WorkflowEnvironment, database: str) -> Settings:  # noqa: F811
    """The session's settings: its own database, task queue and queue names."""
    return Settings(
        env="test",
        database_url=database,
        temporal_address=temporal.client.service_client.config.target_host,
        task_queue=f"rs-{uuid.uuid4().hex[:8]}",
        queue_prefix=f"rs-{uuid.uuid4().hex[:8]}.",
        queue_expires="10m",
        workflow_sandbox=True,  # the tests run every workflow in the SDK's sandbox
    )


@pytest.fixture(scope="session")
def as_(settings: Settings) -> Tokens:
    return Tokens(settings)


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    return tmp_path


async def declare_consumer_queues(app: FastAPI, amqp_url: str) -> None:
    """Declare an app's consumer queues before any event is sent, so none is missed."""
    await declare_queues(amqp_url, app.state.consumers)


def client_of(app: FastAPI, name: str) -> httpx.AsyncClient:
    """An HTTP client of an app in this process; an unhandled error comes back as a 500."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url=f"http://{name}", timeout=60)


async def deliveries(url: str, queue_name: str, expected: set[str]) -> Counter[str]:
    """How often each event id arrived on a queue bound to every event."""
    seen: Counter[str] = Counter()
    connection = await aio_pika.connect_robust(url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(queue_name, passive=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            message = await queue.get(fail=False)
            if message is None:
                if expected <= set(seen):
                    break
                await asyncio.sleep(0.2)
                continue
            seen[json.loads(message.body)["id"]] += 1
            await message.ack()
    return seen


class Writes:
    """A customer and its order through the orders API every `every` seconds, from start()
    until stop(): `writes["ok"]` counts the writes taken, every other key is a failure."""

    def __init__(self, http: httpx.AsyncClient, as_: Tokens, unit: str, every: float) -> None:
        self.http, self.as_, self.unit, self.every = http, as_, unit, every
        self.writes: Counter[str] = Counter()
        self.customers: list[dict] = []
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._write())

    async def stop(self) -> None:
        self._stop.set()
        assert self._task is not None
        await self._task

    def failures(self) -> dict[str, int]:
        return {k: v for k, v in self.writes.items() if k != "ok"}

    async def _write(self) -> None:
        while not self._stop.is_set():
            try:
                caseworker = self.as_("caseworker")
                customer = await new_customer(self.http, caseworker, first_name="Ruth")
                self.customers.append(customer)
                await new_order(self.http, caseworker, customer, self.unit, date.today())
                self.writes["ok"] += 2
            except AssertionError as failed:
                self.writes[f"failed: {failed}"[:200]] += 1
            await asyncio.sleep(self.every)


async def everything_queue(url: str, name: str) -> None:
    """A queue bound to every event, to count deliveries by id (see `deliveries`)."""
    connection = await aio_pika.connect_robust(url)
    async with connection:
        await declare_queue(await connection.channel(), name, ["#"])
