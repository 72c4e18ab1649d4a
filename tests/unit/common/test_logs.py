"""Log lines as JSON: the service, the request id and the trace and span id of the request
they were written in, and no query string (a search may be a personnummer)."""

from __future__ import annotations

import io
import json
import logging

import httpx
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from starlette.responses import PlainTextResponse

from services.common.app import PathOnlyAccessLog, RequestIdMiddleware
from services.common.logs import JsonLines, config
from services.common.settings import Settings


def capture(logger: logging.Logger, service: str = "orders") -> io.StringIO:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonLines(service))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return out


async def test_a_line_written_while_serving_a_request_carries_its_id() -> None:
    log = logging.getLogger("tests.logs.request")
    out = capture(log)

    async def app(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        log.info("confirming an order")
        await PlainTextResponse("ok")(scope, receive, send)

    transport = httpx.ASGITransport(app=RequestIdMiddleware(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://orders") as client:
        answer = await client.get("/orders")
    log.info("between requests")
    during, between = (json.loads(line) for line in out.getvalue().splitlines())
    assert during["request_id"] == answer.headers["x-request-id"]
    assert during["service"] == "orders"
    assert during["message"] == "confirming an order"
    assert during["level"] == "info"
    assert "request_id" not in between


def test_the_access_log_as_json_keeps_the_path_without_the_query() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/customers?q=189001019802", "1.1", 200),
        None,
    )
    PathOnlyAccessLog().filter(record)
    line = json.loads(JsonLines("orders").format(record))
    assert line["message"] == '127.0.0.1:5000 - "GET /customers HTTP/1.1" 200'
    assert "1890" not in json.dumps(line)


def test_production_logs_json_and_development_text_unless_told() -> None:
    secrets = {
        "jwt_secret": "a-real-secret-of-production-length-0123456789",
        "payload_key": "cHJvZHVjdGlvbi1wYXlsb2FkLWtleS0zMi1ieXRlcyE=",
    }
    assert Settings(env="production", **secrets).json_logs
    assert not Settings(env="development").json_logs
    assert Settings(env="development", log_format="json").json_logs
    assert not Settings(env="production", log_format="text", **secrets).json_logs
    formatters = config("web", json_lines=True)["formatters"]["platform"]
    assert formatters["()"] is JsonLines and formatters["service"] == "web"


async def test_a_line_written_in_a_traced_request_carries_its_trace_and_span_id() -> None:
    log = logging.getLogger("tests.logs.trace")
    out = capture(log)
    tracer = TracerProvider().get_tracer("tests")
    seen: dict[str, str] = {}

    async def app(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        span = trace.get_current_span().get_span_context()
        seen["trace_id"], seen["span_id"] = f"{span.trace_id:032x}", f"{span.span_id:016x}"
        log.info("confirming an order")
        await PlainTextResponse("ok")(scope, receive, send)

    async def traced(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        # as the FastAPI instrumentation does: the request's span outside every middleware
        with tracer.start_as_current_span("POST /orders/{order_id}/confirm"):
            await RequestIdMiddleware(app)(scope, receive, send)

    transport = httpx.ASGITransport(app=traced)
    async with httpx.AsyncClient(transport=transport, base_url="http://orders") as client:
        answer = await client.post("/orders/1/confirm")
    log.info("outside any trace")
    during, outside = (json.loads(line) for line in out.getvalue().splitlines())
    assert during["trace_id"] == seen["trace_id"] and len(during["trace_id"]) == 32
    assert during["span_id"] == seen["span_id"] and len(during["span_id"]) == 16
    assert during["request_id"] == answer.headers["x-request-id"]
    assert during["service"] == "orders"
    assert "trace_id" not in outside and "span_id" not in outside
