"""One trace per request: a provider's confirm goes from its HTTP request through the workflow
update and its activity, into the outbox row, onto the message and into the consumer that
hears it; and no span names, holds or carries (baggage) a customer's personal data."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.common import tracing
from tests.integration import personal_data
from tests.integration.conftest import wait_for
from tests.integration.helpers import new_customer, new_order, new_unit
from workflows.models import lifecycle_id

SERVER = trace.SpanKind.SERVER


@pytest.fixture(scope="module")
def spans() -> Iterator[InMemorySpanExporter]:
    """Every span this process ends while the module runs, kept in memory as a service's
    provider exports them (tracing.provider: behind its scrubbing of personal data)."""
    exporter = InMemorySpanExporter()
    assert not isinstance(trace.get_tracer_provider(), TracerProvider), "a provider was set"
    trace.set_tracer_provider(tracing.provider("tests", exporter, batched=False))
    tracing.instrument_libraries()  # as tracing.setup does where an endpoint is set
    yield exporter
    exporter.shutdown()  # later modules' spans are not kept


def _of_trace(exporter: InMemorySpanExporter, trace_id: int) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.context.trace_id == trace_id]


def _server_span(exporter: InMemorySpanExporter, route: str, request_id: str) -> ReadableSpan:
    found = [
        s
        for s in exporter.get_finished_spans()
        if s.kind == SERVER and (s.attributes or {}).get("lifecare.request_id") == request_id
    ]
    assert len(found) == 1, f"one server span for request {request_id}, found {len(found)}"
    assert found[0].name.endswith(route), found[0].name
    return found[0]


def _named(spans: list[ReadableSpan], name: str) -> ReadableSpan:
    matching = [s for s in spans if s.name == name]
    assert matching, f"no span {name!r} among {sorted({s.name for s in spans})}"
    return matching[0]


async def test_a_confirm_is_one_trace_from_the_request_to_the_consumer_of_its_event(
    spans, http, as_, absence_app, pool
):
    unit = await new_unit(http, as_("admin"))
    customer = await new_customer(http, as_("caseworker"))
    order = await new_order(http, as_("caseworker"), customer, unit, date.today())

    answer = await http.post(
        f"/orders/{order['id']}/confirm",
        json={"start_date": str(date.today())},
        headers=as_("provider", unit=unit),
    )
    assert answer.status_code == 200, answer.text

    request = _server_span(spans, "/orders/{order_id}/confirm", answer.headers["x-request-id"])
    trace_id = request.context.trace_id

    def _consumed() -> list[ReadableSpan]:
        return [
            s
            for s in _of_trace(spans, trace_id)
            if s.name == "order.confirmed process"
            and (s.attributes or {}).get("messaging.destination.name", "").find(".absence.") > 0
        ]

    consumed = (await wait_for(lambda: _async(_consumed)))[0]
    chain = _of_trace(spans, trace_id)
    update = _named(chain, "StartWorkflowUpdate:confirm")
    handled = _named(chain, "HandleUpdate:confirm")
    activity = _named(chain, "RunActivity:confirm_order")
    by_id = {s.context.span_id: s for s in chain}

    # the update is called from the request, handled in the workflow, whose activity ran
    assert request in _ancestors(update, by_id)
    assert request in _ancestors(handled, by_id)
    assert handled in _ancestors(activity, by_id) or update in _ancestors(activity, by_id)
    # the consumer continues the span that wrote the event: the activity's
    assert consumed.parent is not None and consumed.parent.span_id == activity.context.span_id
    assert consumed.kind == trace.SpanKind.CONSUMER
    # the activity's own SQL is in the trace too (asyncpg's spans, no parameters)
    inserts = [s for s in chain if s.parent and s.parent.span_id == activity.context.span_id]
    assert any("outbox" in str((s.attributes or {}).get("db.statement", "")) for s in inserts)

    # the outbox row kept the context it was written in, which the relay put on the message
    async with pool.acquire() as conn:
        stored = await conn.fetchval(
            "SELECT trace_context FROM orders.outbox WHERE type = 'order.confirmed' "
            "AND data->>'order_id' = $1",
            order["id"],
        )
    assert set(stored) == {"traceparent"}
    assert stored["traceparent"].split("-")[1] == format(trace_id, "032x")


async def _async(function):  # wait_for awaits its predicate
    return function()


def _ancestors(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[ReadableSpan]:
    found = []
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        found.append(span)
    return found


async def test_an_event_written_outside_a_trace_still_relays_and_begins_its_own(
    spans, http, as_, absence_app, pool
):
    """Rows from before the column (or written outside any span) have no context: they are
    published as ever, and their consumer's span begins a trace."""
    unit = await new_unit(http, as_("admin"))
    customer = await new_customer(http, as_("caseworker"))
    order = await new_order(http, as_("caseworker"), customer, unit, date.today())
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE orders.outbox SET trace_context = NULL WHERE data->>'order_id' = $1",
            order["id"],
        )
    answer = await http.post(
        f"/orders/{order['id']}/confirm",
        json={"start_date": str(date.today())},
        headers=as_("provider", unit=unit),
    )
    assert answer.status_code == 200, answer.text
    async with pool.acquire() as conn:
        event_id = await conn.fetchval(
            "SELECT id FROM orders.outbox WHERE type = 'order.confirmed' "
            "AND data->>'order_id' = $1",
            order["id"],
        )
        # as a row from before the column: no context
        await conn.execute(
            "UPDATE orders.outbox SET trace_context = NULL WHERE id = $1 AND published_at IS NULL",
            event_id,
        )

    def _consumed() -> list[ReadableSpan]:
        return [
            s
            for s in spans.get_finished_spans()
            if (s.attributes or {}).get("messaging.message.id") == str(event_id)
        ]

    consumed = (await wait_for(lambda: _async(_consumed)))[0]
    assert consumed.name == "order.confirmed process"
    async with pool.acquire() as conn:
        assert await conn.fetchval(
            "SELECT published_at IS NOT NULL FROM orders.outbox WHERE id = $1", event_id
        )


async def test_no_span_names_holds_or_carries_personal_data(
    spans, http, as_, absence_app, pool, temporal
):
    unit = await new_unit(http, as_("admin"))
    caseworker = as_("caseworker")
    customer = await new_customer(http, caseworker, first_name="Ingegerd")
    pnr = customer["personnummer"]
    # a search by personnummer and by name, a second customer of the same number (409), an
    # order and its confirm; the request carries baggage naming the customer
    baggage = {"baggage": f"pnr={pnr},name={customer['last_name']}"}
    for query in (pnr, f"{pnr[2:8]}-{pnr[8:]}", customer["last_name"]):
        found = await http.get("/customers", params={"q": query}, headers=caseworker | baggage)
        assert found.status_code == 200 and found.json(), found.text
    again = await http.post(
        "/customers",
        json={"personnummer": pnr, "first_name": "Ingegerd", "last_name": customer["last_name"]},
        headers=caseworker,
    )
    assert again.status_code == 409, again.text
    order = await new_order(http, caseworker, customer, unit, date.today())
    confirmed = await http.post(
        f"/orders/{order['id']}/confirm",
        json={"start_date": str(date.today())},
        headers=as_("provider", unit=unit) | baggage,
    )
    assert confirmed.status_code == 200, confirmed.text
    request = _server_span(spans, "/orders/{order_id}/confirm", confirmed.headers["x-request-id"])

    def _consumed() -> list[ReadableSpan]:
        return [
            s
            for s in _of_trace(spans, request.context.trace_id)
            if s.name == "order.confirmed process"
        ]

    await wait_for(lambda: _async(_consumed))

    recorded = spans.get_finished_spans()
    searches = [s for s in recorded if s.kind == SERVER and s.name.endswith("/customers")]
    assert len(searches) >= 3
    lines = [line for span in recorded for line in personal_data.span_lines(span)]
    people = personal_data.CREATED | {personal_data.Person(pnr, "Ingegerd", customer["last_name"])}
    hits = personal_data.find(lines, people)
    assert not hits, "personal data in a span:\n" + "\n".join(hits[:20])
    # nothing of the baggage went on: not into the outbox row, nor into the message
    async with pool.acquire() as conn:
        stored = await conn.fetchval(
            "SELECT trace_context FROM orders.outbox WHERE type = 'order.confirmed' "
            "AND data->>'order_id' = $1",
            order["id"],
        )
    assert set(stored) == {"traceparent"}, json.dumps(stored)
    # nor into the workflow: the update's header carries the trace context alone
    history = await temporal.client.get_workflow_handle(lifecycle_id(order["id"])).fetch_history()
    headers = [
        event.workflow_execution_update_accepted_event_attributes.accepted_request.input.header
        for event in history.events
        if event.HasField("workflow_execution_update_accepted_event_attributes")
    ]
    carried = [json.loads(h.fields["_tracer-data"].data) for h in headers]
    assert carried and all(set(c) == {"traceparent"} for c in carried), carried
