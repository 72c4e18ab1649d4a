"""`GET /ready` says whether a service can work now, and names what it cannot reach."""

from __future__ import annotations

import httpx

from services.orders.main import build as build_orders


async def test_a_service_with_everything_reachable_is_ready(http: httpx.AsyncClient) -> None:
    answer = await http.get("/ready")
    assert answer.status_code == 200
    assert answer.json() == {
        "status": "ready",
        "service": "orders",
        "database": "ok",
        "rabbitmq": "ok",
        "temporal": "ok",
    }


async def test_a_service_that_cannot_reach_rabbitmq_is_not_ready_and_says_so(
    settings, worker
) -> None:
    app = build_orders(settings.model_copy(update={"amqp_url": "amqp://guest:guest@127.0.0.1:1/"}))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://orders"
        ) as client:
            answer = await client.get("/ready")
            health = await client.get("/health")
    assert answer.status_code == 503
    assert answer.json()["status"] == "not ready"
    assert answer.json()["rabbitmq"].startswith("unavailable")
    assert answer.json()["database"] == "ok"
    assert health.status_code == 200  # alive: the process and its database


async def test_a_schema_behind_its_migrations_is_not_ready(orders_app, pool, monkeypatch) -> None:
    from services.common import readiness

    monkeypatch.setattr(readiness, "heads", lambda schema: frozenset({"a-newer-revision"}))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=orders_app), base_url="http://orders"
    ) as client:
        answer = await client.get("/ready")
    assert answer.status_code == 503
    assert answer.json()["database"] == "migrations behind"
