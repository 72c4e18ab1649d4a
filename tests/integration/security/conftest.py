"""Every service over real HTTP: the session's apps served by uvicorn on the sockets whose URLs
the settings name (so the orders service's GET /audit reaches the others), and a second
stack of its own for the fuzzer, whose random writes no other test must see."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from temporalio.testing import WorkflowEnvironment

from lifecare.worker import build_worker
from services.common import registry
from services.common.auth import issue_token
from services.common.db import create_pool
from services.common.migrations import upgrade_all
from services.common.settings import Settings
from tests.integration.conftest import SERVER_DSN, Tokens, declare_queues
from tests.integration.security.routes import World, build_world
from tests.integration.serving import free_socket, serving, url_of


@pytest.fixture(scope="session")
async def served(
    service_sockets,
    orders_app,
    absence_app,
    billing_app,
    messaging_app,
    identity_url,
) -> AsyncIterator[dict[str, str]]:
    """The session's apps over HTTP at the URLs in `settings`: base URL by service (the
    identity service is served once for the session, by identity_url)."""
    apps = {
        "orders": orders_app,
        "absence": absence_app,
        "billing": billing_app,
        "messaging": messaging_app,
    }
    async with AsyncExitStack() as stack:
        urls = {
            name: await stack.enter_async_context(serving(app, service_sockets[name]))
            for name, app in apps.items()
        }
        yield {**urls, "identity": identity_url}


@dataclass(frozen=True)
class FuzzStack:
    """The fuzzer's own platform: base URL by service, and the unit of the seeded stay."""

    urls: dict[str, str]
    settings: Settings
    unit: str

    def token(self, role: str) -> str:
        unit = self.unit if role in ("provider", "unit_admin") else None
        return issue_token(self.settings, sub=f"fuzz-{role}", name="Fuzz", role=role, unit=unit)


@pytest.fixture(scope="session")
async def fuzz_stack(settings: Settings, temporal: WorkflowEnvironment) -> AsyncIterator[FuzzStack]:
    """Four apps on a database, task queue and queues of their own, served over HTTP, with a
    worker of their own, and the authorization tests' world in them: lists show rows that
    are checked against the schema, and their ids lead the fuzzer to real resources."""
    name = f"lifecare_fuzz_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(f"{SERVER_DSN}/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    sockets = {service: free_socket() for service in registry.names()}
    fuzz_settings = settings.model_copy(
        update={
            "database_url": f"{SERVER_DSN}/{name}",
            "task_queue": f"fuzz-{uuid.uuid4().hex[:8]}",
            "queue_prefix": f"fuzz-{uuid.uuid4().hex[:8]}.",
            "absence_stay_wait": timedelta(0),
            # one fuzzer calls at a time: small pools leave the shared server's connections
            # to the rest of the session (and to other sessions on the machine)
            "db_pool_max": 2,
            "absence_url": url_of(sockets["absence"]),
            "billing_url": url_of(sockets["billing"]),
            "messaging_url": url_of(sockets["messaging"]),
            "identity_url": url_of(sockets["identity"]),
        }
    )
    try:
        await upgrade_all(registry.schemas(), fuzz_settings.database_dsn)
        async with AsyncExitStack() as stack:
            pool = await create_pool(fuzz_settings.database_dsn, max_size=3)
            stack.push_async_callback(pool.close)
            await stack.enter_async_context(build_worker(temporal.client, fuzz_settings, pool))
            urls = {}
            for service in (api.name for api in registry.apis()):
                app: FastAPI = registry.build_app(service, fuzz_settings)
                await stack.enter_async_context(app.router.lifespan_context(app))
                await declare_queues(fuzz_settings, app.state.consumers)
                urls[service] = await stack.enter_async_context(serving(app, sockets[service]))
            clients = {
                service: await stack.enter_async_context(
                    httpx.AsyncClient(base_url=url, timeout=30)
                )
                for service, url in urls.items()
            }
            seeded = await build_world(clients, Tokens(fuzz_settings), pool)
            yield FuzzStack(urls=urls, settings=fuzz_settings, unit=seeded.unit)
    finally:
        for sock in sockets.values():
            sock.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(scope="module")
async def world(served: dict[str, str], as_: Tokens, pool: asyncpg.Pool) -> AsyncIterator[World]:
    """A customer with something in every service, and clients of the served services."""
    async with AsyncExitStack() as stack:
        clients = {
            name: await stack.enter_async_context(httpx.AsyncClient(base_url=url, timeout=30))
            for name, url in served.items()
        }
        yield await build_world(clients, as_, pool)
