"""The floor of the reads bench: a bare FastAPI app over asyncpg that sends, for each read,
the very statement the service sends (bench/reads/queries.py takes it from the service's
repository function) with the same pool size, and answers the rows as JSON. No token, no
transaction, no audit row, no pydantic: what the query itself costs over HTTP.

    python -m bench.reads.floor --port P     (the bench starts it in a process of its own,
                                              served by uvicorn as `lifecare serve` serves)
"""

from __future__ import annotations

import argparse
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response

from bench.reads.queries import QUERIES
from services.common.db import create_pool
from services.common.settings import Settings, get_settings


def _default(value: object) -> str:
    return str(value)


def build() -> FastAPI:
    settings: Settings = get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await create_pool(
            settings.database_dsn, min_size=settings.db_pool_min, max_size=settings.db_pool_max
        )
        try:
            yield
        finally:
            await app.state.pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/q/{index}")
    async def read(index: int, request: Request) -> Response:
        """Query `index` of QUERIES with the request's query string; `sub` names the caller."""
        query = QUERIES[index]
        params = dict(request.query_params)
        sql, args = await query.sql(params, params.get("sub", ""), settings)
        pool = request.app.state.pool
        if query.scalar:
            body = json.dumps({"unread": await pool.fetchval(sql, *args)})
        else:
            rows = await pool.fetch(sql, *args)
            body = json.dumps([dict(row) for row in rows], default=_default)
        return Response(body, media_type="application/json")

    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(prog="bench.reads.floor")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(build(), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
