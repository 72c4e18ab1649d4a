"""Fixtures of the bus's tests: a scratch schema with the bus's tables, a broker connection."""

from __future__ import annotations

import uuid

import aio_pika
import pytest

from services.common.bus import bus_tables_sql


@pytest.fixture
async def schema(pool):
    """A scratch schema with outbox and inbox tables, as a service's first migration makes."""
    name = f"bus_{uuid.uuid4().hex[:8]}"
    async with pool.acquire() as conn:
        await conn.execute(f"CREATE SCHEMA {name}")
        await conn.execute(bus_tables_sql(name))
    yield name
    async with pool.acquire() as conn:
        await conn.execute(f"DROP SCHEMA {name} CASCADE")


@pytest.fixture
async def connection(settings):
    connection = await aio_pika.connect_robust(str(settings.amqp_url))
    yield connection
    await connection.close()


@pytest.fixture
async def channel(connection):
    return await connection.channel()
