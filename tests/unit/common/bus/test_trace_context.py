"""The trace context an event carries: a span's W3C headers out, the same span's context
back in from a message's headers (as str or bytes), and nothing but the trace context."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from services.common.bus.trace_context import context_from, current_context


def test_outside_a_span_there_is_no_context_to_carry() -> None:
    assert current_context() is None


def test_a_spans_context_goes_out_as_traceparent_and_comes_back_as_its_parent() -> None:
    tracer = TracerProvider().get_tracer("tests")
    with tracer.start_as_current_span("writes the event") as writer:
        carried = current_context()
    assert carried is not None and set(carried) == {"traceparent"}
    for headers in (carried, {k: v.encode() for k, v in carried.items()}):
        parent = trace.get_current_span(context_from(headers)).get_span_context()
        assert parent.trace_id == writer.get_span_context().trace_id
        assert parent.span_id == writer.get_span_context().span_id


def test_other_headers_and_no_headers_begin_a_new_trace() -> None:
    for headers in (None, {}, {"x-delivery-count": 2, "baggage": "pnr=189001019802"}):
        context = trace.get_current_span(context_from(headers)).get_span_context()
        assert not context.is_valid
