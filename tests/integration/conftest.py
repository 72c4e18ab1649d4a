"""Integration set-up: a fresh database, the real RabbitMQ, a Temporal dev server started
here, the worker in this process, and the orders API over HTTP (ASGI in process)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import aio_pika
import asyncpg
import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from lifecare.worker import build_worker
from services.common import bus, registry
from services.common.auth import issue_token
from services.common.bus import EXCHANGE, EventConsumer
from services.common.db import create_pool
from services.common.migrations import upgrade_all
from services.common.settings import Settings
from services.common.temporal import data_converter
from tests.integration import personal_data
from tests.integration.serving import free_socket, serving, url_of
from workflows.bridge import AbsenceBridge
from workflows.models import SEARCH_ATTRIBUTES

TEMPORAL_CLI = Path(sys.executable).parent / "temporal"
SERVER_DSN = "postgresql://postgres@127.0.0.1:5432"


@pytest.fixture(scope="session")
async def temporal() -> AsyncIterator[WorkflowEnvironment]:
    """A Temporal dev server of our own, with the platform's search attributes."""
    env = await WorkflowEnvironment.start_local(
        data_converter=data_converter(Settings(env="test")),  # payloads encrypted
        dev_server_existing_path=str(TEMPORAL_CLI),
        search_attributes=list(SEARCH_ATTRIBUTES),
        dev_server_log_level="error",
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def database() -> AsyncIterator[str]:
    """A new, migrated database for this test session; dropped afterwards."""
    name = f"lifecare_it_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(f"{SERVER_DSN}/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    dsn = f"{SERVER_DSN}/{name}"
    try:
        await upgrade_all(registry.schemas(), dsn)
        yield dsn
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(scope="session")
def service_sockets() -> Iterator[dict[str, socket.socket]]:
    """A socket of 127.0.0.1 per service, bound, not served: their URLs are in `settings`,
    and tests that need the services over real HTTP serve the apps on them (serving.py)."""
    sockets = {name: free_socket() for name in registry.names()}
    yield sockets
    for sock in sockets.values():
        sock.close()


@pytest.fixture(scope="session")
def settings(
    temporal: WorkflowEnvironment, database: str, service_sockets: dict[str, socket.socket]
) -> Settings:
    """Settings as `lifecare up` has them, with reminder and IVO times in seconds."""
    return Settings(
        env="test",
        database_url=database,
        temporal_address=temporal.client.service_client.config.target_host,
        task_queue=f"it-{uuid.uuid4().hex[:8]}",
        reminder_after="2s",
        reminder_every="3s",
        ivo_after="2d",
        queue_prefix=f"it-{uuid.uuid4().hex[:8]}.",
        queue_expires="10m",
        workflow_sandbox=True,  # the tests run every workflow in the SDK's sandbox
        absence_url=url_of(service_sockets["absence"]),
        billing_url=url_of(service_sockets["billing"]),
        messaging_url=url_of(service_sockets["messaging"]),
        # the services verify the platform's tokens against the identity service's JWKS there
        identity_url=url_of(service_sockets["identity"]),
    )


@pytest.fixture(scope="session", autouse=True)
async def no_personal_data_in_logs(database: str) -> AsyncIterator[personal_data.Captured]:
    """Every log line of the session, searched at its end for every customer it created."""
    with personal_data.capture_logs() as captured:
        yield captured
    admin = await asyncpg.connect(database)
    try:
        rows = await admin.fetch("SELECT personnummer, first_name, last_name FROM orders.customers")
    finally:
        await admin.close()
    people = personal_data.CREATED | {personal_data.Person(*row) for row in rows}
    lines = captured.lines()
    hits = personal_data.find(lines, people)
    print(
        f"\npersonal data in logs: {len(lines)} lines searched for the personnummer and names "
        f"of {len(people)} customers, {len(hits)} found"
    )
    assert not hits, "personal data in the log:\n" + "\n".join(hits[:20])


@pytest.fixture(scope="session")
async def pool(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(settings.database_dsn)
    yield pool
    await pool.close()


@pytest.fixture(scope="session")
async def worker(temporal: WorkflowEnvironment, settings: Settings, pool: asyncpg.Pool):
    async with build_worker(temporal.client, settings, pool) as running:
        yield running


@pytest.fixture(scope="session")
async def orders_app(settings: Settings, worker):
    app = registry.build_app("orders", settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def http(orders_app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=orders_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://orders") as client:
        yield client


class Tokens:
    """Bearer headers for each kind of caller."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def __call__(self, role: str, unit: str | None = None, sub: str = "tester") -> dict:
        token = issue_token(self.settings, sub=sub, name="Test Person", role=role, unit=unit)
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="session")
def as_(settings: Settings) -> Tokens:
    return Tokens(settings)


async def wait_for(predicate, *, timeout: float = 20.0, interval: float = 0.1):
    """Poll an async predicate until it returns something truthy; fail after `timeout`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await predicate()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(interval)


@pytest.fixture
async def events(settings: Settings) -> AsyncIterator[list[dict]]:
    """Every event on the bus, as a bound queue of this test sees it."""
    connection = await aio_pika.connect_robust(str(settings.amqp_url))
    channel = await connection.channel()
    exchange = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
    queue = await channel.declare_queue(exclusive=True)
    await queue.bind(exchange, routing_key="#")
    seen: list[dict] = []

    async def collect(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        async with message.process():
            seen.append(json.loads(message.body))

    await queue.consume(collect)
    yield seen
    await connection.close()


# --- the other services and the event bridge, one of each per session ------------------------
# Defined here once: a fixture imported into a second conftest is a second fixture, and a
# second bridge or service on the same queues takes events that a test waits for elsewhere.

# A registration waits this long for a stay it does not know yet (event lag), then says 404.
STAY_WAIT = timedelta(seconds=3)


async def declare_queues(settings: Settings, consumers: list[EventConsumer]) -> None:
    """Declare the consumers' queues before any test runs, so they miss no event after it."""
    await bus.declare_queues(str(settings.amqp_url), consumers)


@pytest.fixture(scope="session")
async def bridge(
    temporal: WorkflowEnvironment, settings: Settings, pool: asyncpg.Pool
) -> AsyncIterator[AbsenceBridge]:
    """The event bridge as the worker process runs it."""
    bridge = AbsenceBridge(temporal.client, settings)
    await declare_queues(settings, [bridge])
    task = asyncio.create_task(bridge.run())
    yield bridge
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


@pytest.fixture(scope="session")
def absence_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"absence_stay_wait": STAY_WAIT})


@pytest.fixture(scope="session")
async def absence_app(absence_settings: Settings, orders_app, worker, bridge):
    app = registry.build_app("absence", absence_settings)
    async with app.router.lifespan_context(app):
        await declare_queues(absence_settings, app.state.consumers)
        yield app


@pytest.fixture
async def absence_http(absence_app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=absence_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://absence") as client:
        yield client


@pytest.fixture(scope="session")
async def billing_app(settings: Settings, orders_app, worker):
    """The billing service, its consumer's queue declared before any test sends an event."""
    app = registry.build_app("billing", settings)
    async with app.router.lifespan_context(app):
        await declare_queues(settings, app.state.consumers)
        yield app


@pytest.fixture(scope="session")
async def messaging_app(settings: Settings):
    app = registry.build_app("messaging", settings)
    async with app.router.lifespan_context(app):
        await declare_queues(settings, app.state.consumers)
        yield app


@pytest.fixture(scope="session")
async def identity_app(settings: Settings):
    """The identity service: memberships, the platform's tokens and their JWKS."""
    app = registry.build_app("identity", settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="session")
async def identity_url(identity_app, service_sockets) -> AsyncIterator[str]:
    """The identity service over real HTTP, at the URL the other services fetch its JWKS
    from (settings.identity_url): served once per session, on its socket."""
    async with serving(identity_app, service_sockets["identity"]) as url:
        yield url
