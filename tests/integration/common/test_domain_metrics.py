"""The operators' gauges are real: after real actions, a service's /metrics says how many
orders wait unconfirmed and how old they are, the reminders sent, the decisions past the
IVO limit, a billing run's progress, and how many events wait in a dead-letter queue."""

from __future__ import annotations

from datetime import date, timedelta

import aio_pika
import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.billing.helpers import TARIFFS
from tests.integration.conftest import wait_for
from tests.integration.helpers import new_customer, new_order, new_unit


async def _read(client: httpx.AsyncClient) -> dict[tuple[str, tuple], float]:
    answer = await client.get("/metrics")
    assert answer.status_code == 200, answer.text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def _value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_orders_metrics_count_unconfirmed_orders_reminders_and_decisions_past_ivo(
    http, as_, pool
):
    before = await _read(http)
    unit = await new_unit(http, as_("admin"))
    customer = await new_customer(http, as_("caseworker"))
    # the session's IVO limit is 2 days: a decision of 3 days ago is past it at once
    await new_order(http, as_("caseworker"), customer, unit, date.today() - timedelta(days=3))
    other = await new_customer(http, as_("caseworker"))
    await new_order(http, as_("caseworker"), other, unit, date.today())
    third = await new_customer(http, as_("caseworker"))
    aged = await new_order(http, as_("caseworker"), third, unit, date.today())
    async with pool.acquire() as conn:  # as if it had been sent ten days ago
        await conn.execute(
            "UPDATE orders.orders SET created_at = now() - interval '10 days' WHERE id = $1",
            aged["id"],
        )

    after = await _read(http)
    fresh = "lifecare_unconfirmed_orders"
    assert _value(after, fresh, age="under_3d") - _value(before, fresh, age="under_3d") >= 2
    assert _value(after, fresh, age="7d_30d") - _value(before, fresh, age="7d_30d") >= 1
    past = "lifecare_decisions_past_ivo_limit"
    assert _value(after, past) - _value(before, past) >= 1

    # the session reminds a unit 2 s after an order is sent
    async def reminded() -> bool:
        now = await _read(http)
        return (
            _value(now, "lifecare_reminders_sent") >= _value(before, "lifecare_reminders_sent") + 2
        )

    await wait_for(reminded, timeout=30)


async def test_billing_metrics_show_a_run_completed_with_its_invoices(billing_app, as_):
    transport = httpx.ASGITransport(app=billing_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://billing") as billing:
        tariffs = await billing.put("/tariffs", json=TARIFFS, headers=as_("fee_admin"))
        assert tariffs.status_code == 200, tariffs.text
        # a month long before any test's stays: the run bills no one, and completes
        started = await billing.post(
            "/billing-runs", json={"period": "2020-02"}, headers=as_("fee_admin")
        )
        assert started.status_code == 202, started.text
        run_id = started.json()["id"]

        async def completed() -> bool:
            read = await billing.get(f"/billing-runs/{run_id}", headers=as_("admin"))
            return read.json()["status"] == "completed"

        await wait_for(completed, timeout=60)
        samples = await _read(billing)
    assert _value(samples, "lifecare_billing_run_completed", period="2020-02") == 1
    assert ("lifecare_billing_run_invoices", (("period", "2020-02"), ("status", "issued"))) in (
        samples
    )
    assert ("lifecare_billing_run_overdue", ()) in samples


async def test_a_dead_lettered_event_shows_in_its_queues_depth(absence_app, settings):
    consumer = absence_app.state.consumers[0]
    transport = httpx.ASGITransport(app=absence_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://absence") as absence:
        before = _value(
            await _read(absence), "lifecare_dead_letter_messages", queue=consumer.queue_name
        )
        connection = await aio_pika.connect_robust(str(settings.amqp_url))
        async with connection:
            channel = await connection.channel()
            await channel.default_exchange.publish(
                aio_pika.Message(b"not an event"), routing_key=consumer.queue_name
            )

        async def dead_lettered() -> bool:
            samples = await _read(absence)
            depth = _value(samples, "lifecare_dead_letter_messages", queue=consumer.queue_name)
            return depth == before + 1

        await wait_for(dead_lettered)
