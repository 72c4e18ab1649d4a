"""Traces leave over OTLP/HTTP to the endpoint set, scrubbed, from a process of their own
(as `lifecare serve` runs one); without an endpoint nothing is sent anywhere."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

PNR = "189001019802"  # Skatteverket's test personnummer
PROCESS = f"""
from opentelemetry import trace
from services.common import tracing
from services.common.settings import Settings

tracing.setup(Settings(env="test", otlp_endpoint=sys.argv[1] or None), "orders")
with trace.get_tracer("tests").start_as_current_span(
    "GET /customers", attributes={{"http.url": "http://orders/customers?q={PNR}"}}
):
    pass
if tracing.recording():
    trace.get_tracer_provider().shutdown()  # flushes what its batch holds
"""


class Collector(ThreadingHTTPServer):
    received: list[tuple[str, bytes]]


class Handler(BaseHTTPRequestHandler):
    server: Collector

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[Collector]:
    server = Collector(("127.0.0.1", 0), Handler)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _run(endpoint: str) -> None:
    subprocess.run(
        [sys.executable, "-c", "import sys\n" + PROCESS, endpoint], check=True, timeout=60
    )


def test_a_process_with_an_endpoint_exports_its_spans_there_without_the_query(collector):
    _run(f"http://127.0.0.1:{collector.server_address[1]}")
    assert [path for path, _ in collector.received] == ["/v1/traces"]
    request = ExportTraceServiceRequest.FromString(collector.received[0][1])
    (resource,) = request.resource_spans
    service = {a.key: a.value.string_value for a in resource.resource.attributes}
    assert service["service.name"] == "lifecare-orders"
    (span,) = [s for scope in resource.scope_spans for s in scope.spans]
    assert span.name == "GET /customers"
    attributes = {a.key: a.value.string_value for a in span.attributes}
    assert attributes["http.url"] == "http://orders/customers"
    assert PNR.encode() not in collector.received[0][1]


def test_a_process_without_an_endpoint_sends_nothing(collector, monkeypatch):
    # not even to an endpoint the OpenTelemetry environment variables name
    monkeypatch.setenv(
        "OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{collector.server_address[1]}"
    )
    _run("")
    assert collector.received == []
