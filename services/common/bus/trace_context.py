"""The trace context an event carries: the W3C headers (`traceparent`, `tracestate`) of the
span that wrote it, stored in its outbox row, put on its message by the relay, and read by
its consumer, whose span continues the trace (services/common/tracing.py sets up the rest)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

# W3C trace context only: baggage is what a caller may put anything in, so none is taken
# from a request nor passed on (tracing.setup makes it the process's propagator too)
PROPAGATOR = TraceContextTextMapPropagator()
HEADERS = ("traceparent", "tracestate")


def current_context() -> dict[str, str] | None:
    """The current span's context as W3C headers, or None outside a recorded span."""
    carrier: dict[str, str] = {}
    PROPAGATOR.inject(carrier)
    return carrier or None


def context_from(headers: Mapping[str, Any] | None) -> otel_context.Context:
    """The context a message's headers carry (none: a new trace begins)."""
    carrier = {
        key: value.decode() if isinstance(value, bytes) else value
        for key, value in (headers or {}).items()
        if key in HEADERS and isinstance(value, str | bytes)
    }
    return PROPAGATOR.extract(carrier, context=otel_context.Context())
