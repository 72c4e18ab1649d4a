"""Traces leave without personal data, only to a collector the settings name, and the
workflows' tracing changes no recorded history."""

from __future__ import annotations

from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode
from pydantic import ValidationError
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from services.common import tracing
from services.common.settings import Settings
from services.common.temporal import data_converter
from workflows.order_lifecycle import OrderLifecycle

PNR = "189001019802"  # Skatteverket's test personnummer


def test_without_an_endpoint_nothing_is_exported() -> None:
    assert tracing.exporter(Settings(env="test")) is None


def test_an_endpoint_gets_traces_over_otlp_http_at_its_traces_path() -> None:
    chosen = tracing.exporter(Settings(env="test", otlp_endpoint="http://collector:4318/"))
    assert isinstance(chosen, OTLPSpanExporter)
    assert chosen._endpoint == "http://collector:4318/v1/traces"


def test_an_endpoint_that_is_not_a_url_is_refused_with_what_is_wrong() -> None:
    with pytest.raises(ValidationError, match="not a service URL"):
        Settings(env="test", otlp_endpoint="collector 4318")


def test_an_exported_span_keeps_no_query_and_no_exception_message() -> None:
    memory = InMemorySpanExporter()
    tracer = tracing.provider("tests", memory, batched=False).get_tracer("tests")
    with (
        pytest.raises(ValueError),
        tracer.start_as_current_span(
            "GET /customers",
            attributes={
                "http.url": f"http://orders/customers?q={PNR}",
                "http.target": f"/customers?q={PNR}",
                "url.query": f"q={PNR}",
                "http.route": "/customers",
            },
        ),
    ):
        raise ValueError(f"Key (personnummer)=({PNR}) already exists.")
    (span,) = memory.get_finished_spans()
    assert span.attributes == {
        "http.url": "http://orders/customers",
        "http.target": "/customers",
        "http.route": "/customers",
    }
    (event,) = span.events
    assert event.name == "exception"
    attributes = dict(event.attributes or {})
    assert attributes["exception.type"] == "ValueError"
    assert set(attributes) <= {"exception.type", "exception.escaped"}
    assert span.status.status_code == StatusCode.ERROR
    assert PNR not in str(span.status.description)


def test_a_url_loses_its_query_and_fragment_only() -> None:
    assert tracing.without_query("https://h:8001/a/b?q=1#x") == "https://h:8001/a/b"
    assert tracing.without_query("/customers?q=1") == "/customers"
    assert tracing.without_query("/customers") == "/customers"


HISTORIES = sorted(
    (Path(__file__).parents[2] / "workflows" / "histories").glob("order_lifecycle_*.json")
)


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_recorded_histories_replay_with_the_tracing_interceptor(path: Path) -> None:
    """The interceptor (its updates in their callers' trace) makes spans, never commands."""
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    replayer = Replayer(
        workflows=[OrderLifecycle],
        data_converter=data_converter(Settings(env="test")),
        interceptors=[tracing.interceptor()],
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None


def test_there_are_histories_to_replay() -> None:
    assert len(HISTORIES) >= 9
