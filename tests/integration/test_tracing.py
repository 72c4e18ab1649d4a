"""One trace per request: a provider's confirm goes from its HTTP request through the workflow
update and its activity, into the outbox row, onto the message and into the consumer that
hears it; and no span names, holds or carries (baggage) a customer's personal data."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date

import aio_pika
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.common import tracing
from services.common.bus import EXCHANGE, Event, SideEffectConsumer
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

    async def _consumed() -> list[ReadableSpan]:
        return [
            s
            for s in _of_trace(spans, trace_id)
            if s.name == "order.confirmed process"
            and (s.attributes or {}).get("messaging.destination.name", "").find(".absence.") > 0
        ]

    consumed = (await wait_for(_consumed))[0]
    chain = _of_trace(spans, trace_id)
    update = _named(chain, "StartWorkflowUpdate:confirm")
    handled = _named(chain, "HandleUpdate:confirm")
    activity = _named(chain, "RunActivity:confirm_order")
    by_id = {s.context.span_id: s for s in chain}

    # the update is called from the request and handled in the workflow, which started the
    # activity: all in the request's trace, under the update's call
    started = _named(chain, "StartActivity:confirm_order")
    assert request in _ancestors(update, by_id)
    assert update in _ancestors(handled, by_id)
    assert _ancestors(activity, by_id)[:2] == [started, update]
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


def _ancestors(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[ReadableSpan]:
    found = []
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        found.append(span)
    return found


async def test_an_event_without_a_trace_context_relays_and_its_consumer_begins_a_trace(
    spans, orders_app, pool, settings
):
    """A row from before the column (or written outside any span) has no context: it is
    published as ever, without trace headers, and its consumer's span begins a trace."""
    connection = await aio_pika.connect_robust(str(settings.amqp_url))
    async with connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(
            EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(exclusive=True)
        await queue.bind(exchange, routing_key="tracing.untraced.#")
        event_id = uuid.uuid4()
        async with pool.acquire() as conn:  # as a row written before trace_context existed
            await conn.execute(
                "INSERT INTO orders.outbox (id, type, data) VALUES ($1, 'tracing.untraced', $2)",
                event_id,
                {"n": 1},
            )
        message = await wait_for(lambda: queue.get(fail=False, no_ack=False))
        assert message.message_id == str(event_id)
        assert not {"traceparent", "tracestate"} & set(message.headers or {})

        seen: list[trace.SpanContext] = []

        async def effect(event: Event) -> None:
            seen.append(trace.get_current_span().get_span_context())

        consumer = SideEffectConsumer(
            amqp_url=str(settings.amqp_url),
            queue="tracing.untraced",
            handlers={"tracing.untraced": effect},
        )
        await consumer.handle(message)
    (context,) = seen
    (span,) = [s for s in spans.get_finished_spans() if s.context.span_id == context.span_id]
    assert span.name == "tracing.untraced process" and span.parent is None
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

    async def _consumed() -> list[ReadableSpan]:
        return [
            s
            for s in _of_trace(spans, request.context.trace_id)
            if s.name == "order.confirmed process"
        ]

    await wait_for(_consumed)

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
