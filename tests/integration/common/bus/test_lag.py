"""The relay's lag: how old the oldest unpublished event is, as operators watch it."""

from __future__ import annotations

import uuid

from prometheus_client import REGISTRY

from services.common.bus import OutboxRelay


async def test_the_lag_is_the_age_of_the_oldest_unsent_event_and_zero_when_all_are_sent(
    pool, schema, settings
) -> None:
    relay = OutboxRelay(pool, schema=schema, amqp_url=str(settings.amqp_url))
    assert await relay.measure_lag() == 0
    async with pool.acquire() as conn:
        await conn.execute(
            f"""INSERT INTO {schema}.outbox (id, type, data, occurred_at)
                VALUES ($1, 'customer.created', '{{}}', now() - interval '90 seconds'),
                       ($2, 'customer.created', '{{}}', now())""",
            uuid.uuid4(),
            uuid.uuid4(),
        )
    lag = await relay.measure_lag()
    assert 89 <= lag < 120
    assert REGISTRY.get_sample_value("lifecare_outbox_lag_seconds", {"schema": schema}) == lag
    async with pool.acquire() as conn:
        await conn.execute(f"UPDATE {schema}.outbox SET published_at = now()")
    assert await relay.measure_lag() == 0


async def test_requests_are_timed_by_route_template_never_by_id(http, as_) -> None:
    missing = uuid.uuid4()
    assert (await http.get(f"/orders/{missing}", headers=as_("admin"))).status_code == 404
    metrics = (await http.get("/metrics")).text
    labels = {"service": "orders", "method": "GET", "route": "/orders/{order_id}", "status": "4xx"}
    assert REGISTRY.get_sample_value("lifecare_http_request_seconds_count", labels) >= 1
    assert str(missing) not in metrics
