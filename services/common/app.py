"""The app factory: lifespan with pool, relay, consumers and Temporal; errors; /health."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import asyncpg
from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from opentelemetry import trace
from prometheus_client import CONTENT_TYPE_LATEST, Histogram, generate_latest
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.service import RPCError

from services.common import metrics_domain, readiness, registry, temporal, tracing
from services.common.auth import TokenVerifier
from services.common.bus import BY_TYPE, EventConsumer, Handler, OutboxRelay
from services.common.bus.metrics import measure_dead_letters
from services.common.db import create_pool
from services.common.edge import BodyGuard, SecurityHeaders, validation_failed
from services.common.errors import LifecareError
from services.common.logs import REQUEST_ID
from services.common.settings import Settings, get_settings

log = logging.getLogger(__name__)

DATABASE_DOWN = (
    OSError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.AdminShutdownError,
)

# a value the database refuses (SQLSTATE class 22), and one asyncpg refuses to send (an
# integer beyond 64 bits): its client-side DataError is an InterfaceError, which would
# otherwise be answered as the database being down
VALUE_NOT_STORABLE = (asyncpg.exceptions.DataError, asyncpg.exceptions._base.DataError)


@dataclass
class ServiceSpec:
    """What makes one service: its schema name, routes and event consumers."""

    name: str
    title: str
    router: APIRouter
    # the handlers of each event consumer it starts, by purpose (its queue is
    # `<service>.<purpose>`); the purposes are the ones its registry entry names
    consumers: Mapping[str, Mapping[str, Handler]] = field(default_factory=dict)
    uses_temporal: bool = False
    # the routing key each of its events is published under, SQL over its outbox row
    routing_key: str = BY_TYPE


class PathOnlyAccessLog(logging.Filter):
    """Uvicorn's access log without query strings: a search (`?q=`) may be a personnummer."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) == 5:
            client, method, path, version, status = record.args
            record.args = (client, method, str(path).split("?", 1)[0], version, status)
        return True


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"code": code, "message": message}}


def create_app(spec: ServiceSpec, settings: Settings | None = None) -> FastAPI:
    """Build a service's FastAPI app with the platform's shared behaviour."""
    settings = settings or get_settings()
    check_consumers(spec)
    tracing.setup(settings, spec.name)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await create_pool(
            settings.database_dsn, min_size=settings.db_pool_min, max_size=settings.db_pool_max
        )
        if spec.uses_temporal:
            app.state.temporal = await temporal.connect(settings, lazy=True)
        app.state.relay = OutboxRelay(
            app.state.pool,
            schema=spec.name,
            amqp_url=str(settings.amqp_url),
            batch=settings.relay_batch,
            routing_key=spec.routing_key,
        )
        app.state.consumers = [
            _event_consumer(app, purpose=purpose, handlers=handlers)
            for purpose, handlers in spec.consumers.items()
        ]
        tasks = [asyncio.create_task(app.state.relay.run(), name=f"{spec.name}-relay")]
        tasks += [asyncio.create_task(c.run(), name=c.queue_name) for c in app.state.consumers]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await app.state.pool.close()

    app = FastAPI(
        title=spec.title,
        version="1",
        lifespan=lifespan,
        # FastAPI's own telemetry off: the request's one server span is the OpenTelemetry
        # instrumentation's (tracing.instrument_app), and its "logs" would record
        # exceptions' messages, which may quote a personnummer
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    access_log = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, PathOnlyAccessLog) for f in access_log.filters):
        access_log.addFilter(PathOnlyAccessLog())
    app.state.settings = settings
    app.state.service = spec.name
    # the platform's public keys, fetched from the identity service on first use
    app.state.verifier = TokenVerifier(settings)

    # innermost first: the body guard's refusals carry the request id and the headers too
    app.add_middleware(
        BodyGuard, max_body=settings.max_body_bytes, max_upload_body=settings.max_upload_bytes
    )
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(RequestTimer, service=spec.name)
    app.add_middleware(SecurityHeaders)
    app.add_exception_handler(RequestValidationError, validation_failed)  # type: ignore[arg-type]

    @app.exception_handler(LifecareError)
    async def lifecare_error(_request: Request, exc: LifecareError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message), status_code=exc.status)

    @app.exception_handler(RPCError)
    async def temporal_down(_request: Request, exc: RPCError) -> JSONResponse:
        log.warning("temporal call failed: %s", exc.status)
        return JSONResponse(
            error_body("workflow_service_unavailable", "the workflow service is not answering"),
            status_code=503,
        )

    for kind in DATABASE_DOWN:
        app.add_exception_handler(kind, _database_down)
    for kind in VALUE_NOT_STORABLE:
        app.add_exception_handler(kind, _value_not_storable)

    @app.get("/health", tags=["health"])
    async def health(request: Request) -> JSONResponse:
        """Liveness and database reachability; no auth."""
        try:
            async with request.app.state.pool.acquire(timeout=2) as conn:
                await conn.fetchval("SELECT 1")
        except (*DATABASE_DOWN, TimeoutError):
            return JSONResponse({"status": "unavailable", "service": spec.name}, 503)
        return JSONResponse({"status": "ok", "service": spec.name})

    @app.get("/ready", tags=["health"])
    async def is_ready(request: Request) -> JSONResponse:
        """Ready to work: database at its schema's head, RabbitMQ and (where used) Temporal
        reachable; 503 names what is not. No auth."""
        return await readiness.ready(request.app)

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        """Prometheus counters of the process (events published, consumed, retried and
        dead-lettered, requests' latency), and gauges read now: its dead-letter queues'
        depth and its domain's (metrics_domain); no auth and no personal data, like
        /health. What cannot be read now keeps its last value; the scrape still answers."""
        await metrics_domain.measure(spec.name, request.app.state.pool, settings)
        queues = [c.queue_name for c in request.app.state.consumers]
        try:
            await asyncio.wait_for(measure_dead_letters(str(settings.amqp_url), queues), 5)
        except Exception as exc:  # the broker down or a queue not declared yet
            log.warning("dead-letter depth not read: %s", type(exc).__name__)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    app.include_router(spec.router)
    # outermost: the request's span is current in every middleware, handler and log line
    tracing.instrument_app(app)
    return app


REQUEST_SECONDS = Histogram(
    "lifecare_http_request_seconds",
    "Time to answer a request, by service, route (its template, no ids) and status class",
    ["service", "method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


class RequestTimer:
    """Times each request into REQUEST_SECONDS, labelled by its route's template (so
    `/orders/{order_id}`, never an id or a query)."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            REQUEST_SECONDS.labels(
                self.service, scope["method"], route, f"{status['code'] // 100}xx"
            ).observe(time.perf_counter() - started)


# a client's X-Request-ID is kept only when it is a short token of safe characters
CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    """Gives every request an id of the server's own making (a new uuid), for the audit rows
    and the logs, and answers with it in `X-Request-ID`. A client's `X-Request-ID` that is
    a short token of safe characters is kept beside it as a correlation value: the audit row
    stores `<server id> <client id>`, and the answer echoes it in `X-Correlation-ID`. Any
    other client value is dropped, so the client never chooses the id the audit log trusts.
    Plain ASGI: Starlette's `BaseHTTPMiddleware` costs a task and a stream per request,
    about 8 % of the orders service's CPU under load."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = str(uuid.uuid4())
        given = Headers(scope=scope).get("x-request-id", "")
        client_id = given if CLIENT_REQUEST_ID.match(given) else None
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["client_request_id"] = client_id
        state["audit_request_id"] = f"{request_id} {client_id}" if client_id else request_id
        token = REQUEST_ID.set(request_id)
        # the trace found by the id a person quotes from an answer or a log line
        trace.get_current_span().set_attribute("lifecare.request_id", request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = request_id
                if client_id:
                    headers["X-Correlation-ID"] = client_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            REQUEST_ID.reset(token)


async def _database_down(_request: Request, exc: Exception) -> JSONResponse:
    log.warning("database unavailable: %s", type(exc).__name__)
    return JSONResponse(
        error_body("database_unavailable", "the database is not answering; try again shortly"),
        status_code=503,
    )


async def _value_not_storable(_request: Request, exc: Exception) -> JSONResponse:
    """A value the schema let through that the database refuses (a NUL character in a text,
    a number or date out of its column's range): the client's to correct, so a 422."""
    log.info("refused a value the database cannot store: %s", type(exc).__name__)
    return JSONResponse(
        error_body(
            "value_not_storable",
            "a value in the request cannot be stored: it is out of range or holds a character "
            "that text may not contain (NUL)",
        ),
        status_code=422,
    )


def check_consumers(spec: ServiceSpec) -> None:
    """Refuse a service whose consumers are not the ones its registry entry names (an app
    that is in no entry, such as a test's, starts none)."""
    named = registry.consumers_of(spec.name)
    if sorted(spec.consumers) != sorted(named):
        raise RuntimeError(
            f"the {spec.name} service starts the consumers {sorted(spec.consumers)}, "
            f"its entry in services/common/registry.py names {sorted(named)}"
        )


def _event_consumer(
    app: FastAPI, *, purpose: str, handlers: Mapping[str, Handler]
) -> EventConsumer:
    """A consumer of the service's queue `<prefix><service>.<purpose>` writing its own schema;
    the app's lifespan runs it."""
    settings: Settings = app.state.settings
    return EventConsumer(
        app.state.pool,
        schema=app.state.service,
        amqp_url=str(settings.amqp_url),
        queue=f"{settings.queue_prefix}{app.state.service}.{purpose}",
        handlers=handlers,
        expires=settings.queue_expires,
    )
