"""`GET /ready`: whether a service can do its work now — its database reachable and its
schema at the head of its migrations, RabbitMQ reachable, Temporal reachable for the
services that use it. `GET /health` stays the cheaper check (the process and its database)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import lru_cache

import aiormq
from alembic.script import ScriptDirectory
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from services.common.migrations import alembic_config

CHECK_TIMEOUT = 2.0  # seconds each check may take

Check = Callable[[FastAPI], Awaitable[str]]


@lru_cache
def heads(schema: str) -> frozenset[str]:
    """The head revisions of a service's migrations folder."""
    return frozenset(ScriptDirectory.from_config(alembic_config(schema, "")).get_heads())


async def database(app: FastAPI) -> str:
    schema = app.state.service
    async with app.state.pool.acquire(timeout=CHECK_TIMEOUT) as conn:
        current = await conn.fetch(f'SELECT version_num FROM "{schema}".alembic_version')
    found = {row["version_num"] for row in current}
    return "ok" if found == heads(schema) else "migrations behind"


async def rabbitmq(app: FastAPI) -> str:
    connection = await aiormq.connect(str(app.state.settings.amqp_url))
    await connection.close()
    return "ok"


async def temporal(app: FastAPI) -> str:
    return "ok" if await app.state.temporal.service_client.check_health() else "not serving"


def checks_of(app: FastAPI) -> dict[str, Check]:
    found: dict[str, Check] = {"database": database, "rabbitmq": rabbitmq}
    if getattr(app.state, "temporal", None) is not None:
        found["temporal"] = temporal
    return found


async def ready(app: FastAPI) -> JSONResponse:
    """200 when every check holds; 503 naming what does not."""
    checks = checks_of(app)
    results = await asyncio.gather(*(_run(check, app) for check in checks.values()))
    answers = dict(zip(checks, results, strict=True))
    ok = all(answer == "ok" for answer in answers.values())
    body = {"status": "ready" if ok else "not ready", "service": app.state.service, **answers}
    return JSONResponse(body, status_code=200 if ok else 503)


async def _run(check: Check, app: FastAPI) -> str:
    try:
        return await asyncio.wait_for(check(app), timeout=CHECK_TIMEOUT)
    except TimeoutError:
        return "timed out"
    except Exception as exc:  # anything unreachable is "not ready", never a 500
        return f"unavailable ({type(exc).__name__})"


__all__ = ["ready"]
