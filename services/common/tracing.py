"""Traces: one per request, through the workflow update, its activity and the outbox row to
the consumers (OpenTelemetry, exported over OTLP only when `otlp_endpoint` is set).

- `setup` (once a process) exports over OTLP where an endpoint is set, and only then
  instruments httpx and asyncpg;
- `instrument_app` instruments a FastAPI app (its server spans, named by route template);
- `interceptor` is Temporal's `TracingInterceptor`, for clients and workers, with an
  update's handler in its caller's trace;
- the bus carries a span's context in the outbox row and the message's headers
  (services/common/bus/trace_context.py).

No personal data leaves in a span: URLs lose their query (a search may be a personnummer)
and exceptions their message before any exporter sees them (`WithoutPersonalData`), asyncpg
records statements without their parameters, and no baggage is propagated."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from fastapi import FastAPI
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.trace import Status
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio import worker as temporal_worker
from temporalio.contrib.opentelemetry import TracingInterceptor, TracingWorkflowInboundInterceptor

# the SDK's safe attach of a context inside a workflow (its module is private: the SDK is
# pinned below 2 in pyproject, and tests/integration/test_tracing.py sees the chain break)
from temporalio.contrib.opentelemetry._context import attached_context

from services.common.bus.trace_context import PROPAGATOR
from services.common.settings import Settings

log = logging.getLogger(__name__)

# the attributes that hold a URL or its parts, in the old and the new HTTP conventions
URL_ATTRIBUTES = frozenset(("http.url", "http.target", "url.full", "url.path"))
# a URL's query, and what an exception says (its type is kept: `exception.type`)
DROPPED_ATTRIBUTES = frozenset(
    (
        "url.query",
        "http.query",
        "exception.message",
        "exception.stacktrace",
        "db.statement.parameters",
    )
)
LEADING_NAME = re.compile(r"^[A-Za-z_][\w.]*")

# the probes' and Prometheus's requests, every few seconds each: no trace
UNTRACED_PATHS = "/health$,/ready$,/metrics$"

_set_up = False


class WithoutPersonalData(SpanExporter):
    """Hands another exporter copies of the spans with what may hold personal data taken
    out: a URL's query (`/customers?q=<personnummer>` becomes `/customers`), and an
    exception's message and stack trace (a database's refusal quotes the row's values:
    `Key (personnummer)=(...) already exists`), of which its type is kept. Every exporter
    of the platform is wrapped in it (`provider`)."""

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self.inner.export([scrubbed(span) for span in spans])

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


def scrubbed(span: ReadableSpan) -> ReadableSpan:
    """A copy of `span` without URL queries, exception messages and stack traces."""
    status = span.status
    if status.description:
        status = Status(status.status_code, _leading_name(status.description))
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=_clean(span.attributes),
        events=[
            Event(event.name, _clean(event.attributes), event.timestamp) for event in span.events
        ],
        links=span.links,
        kind=span.kind,
        status=status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def _clean(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for key, value in (attributes or {}).items():
        if key in DROPPED_ATTRIBUTES:
            continue
        if key in URL_ATTRIBUTES and isinstance(value, str):
            value = without_query(value)
        cleaned[key] = value
    return cleaned


def _leading_name(description: str) -> str | None:
    """`UniqueViolationError: duplicate key ...` -> `UniqueViolationError`."""
    match = LEADING_NAME.match(description)
    return match.group(0) if match else None


def without_query(url: str) -> str:
    """A URL or a request target without its query string and fragment."""
    if "://" in url:
        parts = urlsplit(url)
        return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    return url.split("?", 1)[0].split("#", 1)[0]


def provider(service: str, exporter: SpanExporter, *, batched: bool = True) -> TracerProvider:
    """A tracer provider for one process, exporting through `WithoutPersonalData`."""
    made = TracerProvider(resource=Resource.create({"service.name": f"lifecare-{service}"}))
    safe = WithoutPersonalData(exporter)
    made.add_span_processor(BatchSpanProcessor(safe) if batched else SimpleSpanProcessor(safe))
    return made


def setup(settings: Settings, service: str) -> None:
    """Once per process: W3C propagation, and where `otlp_endpoint` is set a tracer
    provider exporting there, with httpx and asyncpg instrumented; without it nothing is
    recorded, exported or dialled, and the libraries run as they were (no cost per query)."""
    global _set_up
    if _set_up:
        return
    _set_up = True
    propagate.set_global_textmap(PROPAGATOR)
    chosen = exporter(settings)
    if chosen is not None:
        trace.set_tracer_provider(provider(service, chosen))
        instrument_libraries()
        log.info("traces exported over OTLP to %s", settings.otlp_endpoint)


def recording() -> bool:
    """Whether this process records spans (a tracer provider of the SDK is set)."""
    return isinstance(trace.get_tracer_provider(), TracerProvider)


def exporter(settings: Settings) -> SpanExporter | None:
    """OTLP over HTTP to `<otlp_endpoint>/v1/traces`, or None when no endpoint is set."""
    if settings.otlp_endpoint is None:
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=f"{settings.otlp_endpoint}/v1/traces")


def instrument_libraries() -> None:
    """httpx's and asyncpg's spans (asyncpg's without the statements' parameters)."""
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    if not HTTPXClientInstrumentor().is_instrumented_by_opentelemetry:
        HTTPXClientInstrumentor().instrument()
    if not AsyncPGInstrumentor().is_instrumented_by_opentelemetry:
        AsyncPGInstrumentor(capture_parameters=False).instrument()


def instrument_app(app: FastAPI) -> None:
    """The app's server span per request, named `<method> <route template>`; the ASGI
    send and receive events are left out (a span per body chunk says nothing). A request
    goes through the instrumented stack only while the process records spans: the
    instrumentation costs 60-170 µs a request even with nothing to record."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    build_plain = app.build_middleware_stack
    FastAPIInstrumentor.instrument_app(
        app, exclude_spans=["receive", "send"], excluded_urls=UNTRACED_PATHS
    )
    build_traced = app.build_middleware_stack

    def build_middleware_stack() -> ASGIApp:
        return WhileRecording(plain=build_plain(), traced=build_traced())

    app.build_middleware_stack = build_middleware_stack  # type: ignore[method-assign]


class WhileRecording:
    """Sends a request through the traced middleware stack while spans are recorded (see
    `recording`), else through the same stack without the instrumentation."""

    def __init__(self, *, plain: ASGIApp, traced: ASGIApp) -> None:
        self.plain = plain
        self.traced = traced

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await (self.traced if recording() else self.plain)(scope, receive, send)


class UpdatesInTheirCallersTrace(TracingWorkflowInboundInterceptor):
    """An update's handler, and the activities it starts, in the trace of the request that
    sent the update, not in the trace that started the workflow months before (the SDK's
    default, which only links the caller): a provider's confirm is then one trace from its
    request to the consumers of the event the activity writes. Spans only, no command: a
    recorded history replays as before."""

    async def handle_update_handler(self, input: temporal_worker.HandleUpdateInput) -> Any:
        header = input.headers.get(self.header_key)
        if not header:
            return await super().handle_update_handler(input)
        carrier = self.payload_converter.from_payloads([header])[0]
        context = self._set_on_context(self.text_map_propagator.extract(carrier))
        with attached_context(context):
            self._completed_span(
                f"HandleUpdate:{input.update}",
                link_context_carrier=self._load_workflow_context_carrier(),
                kind=trace.SpanKind.SERVER,
            )
            return await self.next.handle_update_handler(input)


class Tracing(TracingInterceptor):
    """Temporal's `TracingInterceptor` with updates traced as their callers' (above)."""

    def workflow_interceptor_class(
        self, input: temporal_worker.WorkflowInterceptorClassInput
    ) -> type[TracingWorkflowInboundInterceptor]:
        super().workflow_interceptor_class(input)  # registers the span-making externs
        return UpdatesInTheirCallersTrace


def interceptor() -> TracingInterceptor:
    """Temporal's tracing: a span per client call, workflow task and activity, with the
    caller's context passed in the calls' headers."""
    return Tracing()
