"""PostgreSQL goes away: every service answers 503 (never a 500) while it is down and
recovers by itself when it is back. The services run as `lifecare serve` processes (real
uvicorn) on a private PostgreSQL server, which the test stops without warning."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from datetime import date

import aio_pika
import asyncpg
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from services.common import registry
from services.common.bus import EXCHANGE, Event
from services.common.migrations import upgrade_all
from tests.integration import helpers, personal_data
from tests.resilience.stack import PG_BIN, LifecareProcess, PrivatePostgres, free_port

OUTAGE = 10.0  # seconds without a database


def _requests(as_, customer_id: str, unit: str) -> list[tuple[str, str, str, dict, dict | None]]:
    """(service, method, path, headers, body): reads and writes of every service."""
    caseworker, provider = as_("caseworker"), as_("provider", unit=unit)
    fee_admin, admin = as_("fee_admin"), as_("admin")
    absence = {
        "customer_id": customer_id,
        "reason": "hospital",
        "description": "Inlagd",
        "from_date": str(date.today()),
    }
    return [
        ("orders", "GET", "/health", {}, None),
        ("orders", "GET", "/customers?q=Testsson", caseworker, None),
        ("orders", "GET", "/orders?status=unconfirmed", provider, None),
        ("orders", "GET", "/units", admin, None),
        ("absence", "GET", "/health", {}, None),
        ("absence", "GET", "/absences?current=true", provider, None),
        ("absence", "POST", "/absences", provider, absence),
        ("billing", "GET", "/health", {}, None),
        ("billing", "GET", "/tariffs", fee_admin, None),
        ("billing", "GET", "/invoices", fee_admin, None),
        ("messaging", "GET", "/health", {}, None),
        ("messaging", "GET", "/messages?folder=inbox", provider, None),
        ("messaging", "GET", "/messages/unread-count", provider, None),
        ("messaging", "GET", "/mailboxes?q=bosam", provider, None),
    ]


async def _customer(http: httpx.AsyncClient, as_) -> httpx.Response:
    pnr = helpers.test_personnummer()
    body = {"personnummer": pnr, "first_name": "Ingegerd", "last_name": "Testsson"}
    response = await http.post("/customers", json=body, headers=as_("caseworker"))
    if response.status_code == 201:
        personal_data.remember(response.json())
    return response


@pytest.mark.skipif(PG_BIN is None, reason="PostgreSQL's server programs are not installed")
async def test_services_answer_503_while_postgres_is_down_and_recover_by_themselves(
    settings, as_, log_dir
):
    postgres = PrivatePostgres()
    processes: list[LifecareProcess] = []
    try:
        postgres.start()
        admin = await asyncpg.connect(postgres.dsn)
        await admin.execute("CREATE DATABASE lifecare")
        await admin.close()
        dsn = postgres.dsn.rsplit("/", 1)[0] + "/lifecare"
        await upgrade_all(registry.schemas(), dsn)
        private = settings.model_copy(update={"database_url": dsn})
        ports = {name: free_port() for name in registry.names()}
        for name in registry.names():
            process = LifecareProcess(
                private, ["serve", name, "--port", str(ports[name])], log_dir, name
            )
            process.start()
            processes.append(process)
        clients = {
            name: httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30)
            for name, port in ports.items()
        }

        async def healthy(name: str) -> bool:
            try:
                return (await clients[name].get("/health")).status_code == 200
            except httpx.TransportError:
                return False

        for name in registry.names():
            await _wait(lambda n=name: healthy(n), f"the {name} service", 60)
        unit = f"unit-{uuid.uuid4().hex[:8]}"
        created = await clients["orders"].post(
            "/units", json={"id": unit, "name": "Testgården"}, headers=as_("admin")
        )
        assert created.status_code == 201, created.text
        customer = await _customer(clients["orders"], as_)
        assert customer.status_code == 201, customer.text
        found = await clients["orders"].get(
            "/customers", params={"q": customer.json()["personnummer"]}, headers=as_("admin")
        )
        assert found.status_code == 200 and len(found.json()) == 1
        requests = _requests(as_, customer.json()["id"], unit)
        before = Counter(
            [(await _send(clients, r)).status_code for r in requests],
        )
        assert all(status < 500 for status in before), before

        postgres.stop("immediate")  # as a crash: no goodbye to the open connections
        down_at = time.monotonic()
        sent = await _publish_customers(private, count=20)  # billing must hold them
        during: Counter[int] = Counter()
        failures: list[str] = []
        while time.monotonic() - down_at < OUTAGE:
            for request in requests:
                response = await _send(clients, request)
                during[response.status_code] += 1
                if response.status_code != 503:
                    failures.append(f"{request[:3]} -> {response.status_code} {response.text}")
            writes = await _customer(clients["orders"], as_)
            during[writes.status_code] += 1
            if writes.status_code != 503:
                failures.append(f"POST /customers -> {writes.status_code} {writes.text}")
            await asyncio.sleep(0.2)
        body = (await clients["orders"].get("/customers", headers=as_("caseworker"))).json()

        postgres.start()
        back_at = time.monotonic()
        for name in registry.names():
            await _wait(lambda n=name: healthy(n), f"the {name} service back", 60)
        healthy_after = time.monotonic() - back_at
        written = await _customer(clients["orders"], as_)
        recovered = time.monotonic() - back_at
        applied = await _applied(dsn, sent)
        caught_up = time.monotonic() - back_at
        after = Counter([(await _send(clients, r)).status_code for r in requests])
        metrics = (await clients["billing"].get("/metrics")).text
        held = {
            sample.name: sample.value
            for family in text_string_to_metric_families(metrics)
            for sample in family.samples
            if sample.labels.get("queue") == f"{private.queue_prefix}billing.read-model"
        }
        for client in clients.values():
            await client.aclose()
    finally:
        for process in processes:
            process.stop()
        postgres.remove()

    outputs = "\n".join(p.output() for p in processes)
    assert failures == [], failures[:5]
    assert during[503] >= len(requests), during
    assert body == {
        "error": {
            "code": "database_unavailable",
            "message": "the database is not answering; try again shortly",
        }
    }
    assert all(status < 500 for status in after), after
    assert written.status_code == 201, written.text
    assert "Exception in ASGI application" not in outputs  # what uvicorn logs for a 500
    assert "dead-lettered" not in outputs
    assert held["lifecare_events_held_total"] > 0
    assert held.get("lifecare_events_dead_lettered_total", 0) == 0
    assert applied == len(sent)
    print(
        f"\npostgres outage: {sum(during.values())} requests to 4 services in {OUTAGE:.0f} s "
        f"down, answers {dict(during)}; healthy {healthy_after:.1f} s after the restart, "
        f"a write {recovered:.1f} s after; before {dict(before)}, after {dict(after)}; "
        f"{len(sent)} events sent to billing while down: {held['lifecare_events_held_total']:.0f} "
        f"tries held, all {applied} applied {caught_up:.1f} s after the restart, none dead-lettered"
    )


async def _publish_customers(settings, count: int) -> list[uuid.UUID]:  # type: ignore[no-untyped-def]
    """customer.created events straight onto the bus, for billing's consumer to apply."""
    ids = [uuid.uuid4() for _ in range(count)]
    connection = await aio_pika.connect_robust(str(settings.amqp_url))
    async with connection:
        channel = await connection.channel()
        exchange = await channel.get_exchange(EXCHANGE)
        for customer_id in ids:
            event = Event(
                type="customer.created",
                source="test",
                data={
                    "customer_id": str(customer_id),
                    "customer_number": f"pg-{customer_id.hex[:8]}",
                },
            )
            await exchange.publish(
                aio_pika.Message(event.model_dump_json().encode(), message_id=str(event.id)),
                routing_key=event.type,
            )
    return ids


async def _applied(dsn: str, ids: list[uuid.UUID]) -> int:
    """How many of the customers billing has learnt, once it stops learning more."""
    conn = await asyncpg.connect(dsn)
    try:
        deadline = time.monotonic() + 60
        while True:
            count = await conn.fetchval(
                "SELECT count(*) FROM billing.customers WHERE id = ANY($1::uuid[])", ids
            )
            if count == len(ids) or time.monotonic() > deadline:
                return count
            await asyncio.sleep(0.5)
    finally:
        await conn.close()


async def _send(clients, request) -> httpx.Response:  # type: ignore[no-untyped-def]
    service, method, path, headers, body = request
    return await clients[service].request(method, path, headers=headers, json=body)


async def _wait(predicate, description: str, timeout: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{description} not within {timeout:.0f} s")
        await asyncio.sleep(0.2)
