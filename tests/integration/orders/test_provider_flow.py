"""The manual's walk-through over HTTP, against real PostgreSQL, RabbitMQ and Temporal."""

from __future__ import annotations

import json
from datetime import timedelta

from services.common.dates import today_in_stockholm
from tests.integration.conftest import wait_for
from tests.integration.helpers import new_customer, new_order, new_unit


async def test_provider_walk_through(http, as_, events):
    admin, caseworker = as_("admin"), as_("caseworker")
    unit = await new_unit(http, admin)
    provider = as_("provider", unit=unit, sub="anna")
    today = today_in_stockholm()

    # the caseworker registers the customer and sends the order
    customer = await new_customer(http, caseworker, first_name="Astrid", last_name="Lindqvist")
    order = await new_order(http, caseworker, customer, unit, today - timedelta(days=2))
    assert order["status"] == "unconfirmed"
    assert order["workflow_id"] == f"order-{order['id']}"

    # the provider's home screen: unconfirmed orders
    unconfirmed = await http.get("/orders", params={"status": "unconfirmed"}, headers=provider)
    assert [o["id"] for o in unconfirmed.json()] == [order["id"]]

    # read and print the order
    read = await http.get(f"/orders/{order['id']}", headers=provider)
    assert read.status_code == 200 and read.json()["customer_name"] == "Astrid Lindqvist"
    printed = await http.get(f"/orders/{order['id']}/print", headers=provider)
    assert printed.status_code == 200
    assert printed.headers["content-type"].startswith("text/html")
    pnr = customer["personnummer"]
    assert f"{pnr[:8]}-{pnr[8:]}" in printed.text
    assert "Astrid Lindqvist" in printed.text and customer["customer_number"] in printed.text

    # confirm with a start date in the future
    start = today + timedelta(days=3)
    confirmed = await http.post(
        f"/orders/{order['id']}/confirm", json={"start_date": str(start)}, headers=provider
    )
    assert confirmed.status_code == 200, confirmed.text
    body = confirmed.json()
    assert body["status"] == "confirmed" and body["start_date"] == str(start)
    assert body["execution_id"]

    # it is listed under confirmed, no longer under unconfirmed
    listed = await http.get("/orders", params={"status": "confirmed"}, headers=provider)
    assert [o["id"] for o in listed.json()] == [order["id"]]
    still = await http.get("/orders", params={"status": "unconfirmed"}, headers=provider)
    assert still.json() == []

    # search the customer by personnummer in several forms, and by customer number
    for query in (pnr, f"{pnr[:8]}-{pnr[8:]}", f"{pnr[2:8]}-{pnr[8:]}", pnr[2:]):
        found = await http.get("/customers", params={"q": query}, headers=provider)
        assert [c["id"] for c in found.json()] == [customer["id"]], query
    by_number = await http.get(
        "/customers", params={"q": customer["customer_number"]}, headers=provider
    )
    assert [c["id"] for c in by_number.json()] == [customer["id"]]
    by_name = await http.get("/customers", params={"q": "lindqvist"}, headers=provider)
    assert customer["id"] in [c["id"] for c in by_name.json()]

    # the customer's executions, then end it with a reason
    executions = await http.get(f"/customers/{customer['id']}/executions", headers=provider)
    (execution,) = executions.json()
    assert execution["id"] == body["execution_id"] and execution["status"] == "confirmed"
    ended = await http.post(
        f"/executions/{execution['id']}/end",
        json={"end_date": str(start + timedelta(days=30)), "reason": "deceased", "confirmed": True},
        headers=provider,
    )
    assert ended.status_code == 200, ended.text
    assert ended.json()["status"] == "ended"
    assert ended.json()["end_reason"] == "deceased"
    final = await http.get(f"/orders/{order['id']}", headers=provider)
    assert final.json()["status"] == "ended"
    assert final.json()["end_date"] == str(start + timedelta(days=30))

    # every step reached the bus
    async def published():
        mine = [e for e in events if order["id"] in json.dumps(e["data"])]
        types = [e["type"] for e in mine]
        return (
            types if {"order.created", "order.confirmed", "execution.ended"} <= set(types) else None
        )

    assert await wait_for(published)
    customer_events = [
        e
        for e in events
        if e["type"] == "customer.created" and e["data"]["customer_id"] == customer["id"]
    ]
    assert customer_events and "personnummer" not in customer_events[0]["data"]


async def test_execution_becomes_ongoing_on_its_start_date(http, as_, events):
    admin, caseworker = as_("admin"), as_("caseworker")
    unit = await new_unit(http, admin)
    provider = as_("provider", unit=unit)
    customer = await new_customer(http, caseworker)
    today = today_in_stockholm()
    order = await new_order(http, caseworker, customer, unit, today)

    # the customer moved in today: the confirmation starts the execution at once
    confirmed = await http.post(
        f"/orders/{order['id']}/confirm", json={"start_date": str(today)}, headers=provider
    )
    assert confirmed.status_code == 200
    assert confirmed.json()["status"] == "ongoing"
    read = (await http.get(f"/orders/{order['id']}", headers=provider)).json()
    assert read["status"] == "ongoing"
    assert read["execution_id"] == confirmed.json()["execution_id"]

    async def published():
        mine = {e["type"]: e["data"] for e in events if e["data"].get("order_id") == order["id"]}
        return mine if {"order.confirmed", "execution.started"} <= set(mine) else None

    sent = await wait_for(published)
    assert sent["execution.started"]["execution_id"] == read["execution_id"]
    assert sent["execution.started"]["start_date"] == str(today)
    listed = await http.get("/orders", params={"status": "confirmed"}, headers=provider)
    assert order["id"] in [o["id"] for o in listed.json()]  # `confirmed` includes ongoing


async def test_unconfirmed_order_reminds_the_unit_by_customer_number(http, as_, events):
    admin, caseworker = as_("admin"), as_("caseworker")
    unit = await new_unit(http, admin)
    customer = await new_customer(http, caseworker)
    order = await new_order(http, caseworker, customer, unit, today_in_stockholm())

    async def reminders():
        return [
            e
            for e in events
            if e["type"] == "notification.requested"
            and e["data"].get("order_id") == order["id"]
            and f"unit:{unit}" in e["data"]["to"]
        ]

    (first, *_) = await wait_for(reminders)
    assert customer["customer_number"] in first["data"]["body"]
    assert customer["personnummer"] not in json.dumps(first)
    assert customer["personnummer"][2:8] not in json.dumps(first["data"])
    # and a second after the repeat interval
    assert len(await wait_for(lambda: _at_least(reminders, 2))) >= 2


async def _at_least(query, count):
    found = await query()
    return found if len(found) >= count else None


async def test_withdrawn_order_cannot_be_confirmed(http, as_):
    admin, caseworker = as_("admin"), as_("caseworker")
    unit = await new_unit(http, admin)
    provider = as_("provider", unit=unit)
    customer = await new_customer(http, caseworker)
    order = await new_order(http, caseworker, customer, unit, today_in_stockholm())

    withdrawn = await http.post(
        f"/orders/{order['id']}/withdraw",
        json={"reason": "Kunden tackade nej"},
        headers=caseworker,
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    refused = await http.post(
        f"/orders/{order['id']}/confirm",
        json={"start_date": str(today_in_stockholm())},
        headers=provider,
    )
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "order_withdrawn"
    assert "withdrawn" in refused.json()["error"]["message"]


async def test_unexecuted_decisions_report_lists_orders_unconfirmed_for_three_months(http, as_):
    admin, caseworker = as_("admin"), as_("caseworker")
    unit = await new_unit(http, admin)
    old_customer, new_customer_ = (
        await new_customer(http, caseworker),
        await new_customer(http, caseworker),
    )
    today = today_in_stockholm()
    old = await new_order(http, caseworker, old_customer, unit, today - timedelta(days=100))
    recent = await new_order(http, caseworker, new_customer_, unit, today - timedelta(days=20))

    report = await http.get("/reports/unexecuted-decisions", headers=caseworker)
    assert report.status_code == 200
    ids = [o["id"] for o in report.json()]
    assert old["id"] in ids and recent["id"] not in ids
    provider = as_("provider", unit=unit)
    assert (await http.get("/reports/unexecuted-decisions", headers=provider)).status_code == 403


async def test_operators_find_the_workflow_by_its_search_attributes(http, as_, temporal):
    admin, caseworker = as_("admin"), as_("caseworker")
    unit = await new_unit(http, admin)
    provider = as_("provider", unit=unit)
    customer = await new_customer(http, caseworker)
    order = await new_order(http, caseworker, customer, unit, today_in_stockholm())
    start = today_in_stockholm() + timedelta(days=7)
    await http.post(
        f"/orders/{order['id']}/confirm", json={"start_date": str(start)}, headers=provider
    )

    async def listed():
        query = (
            f'OrderStatus = "confirmed" AND UnitId = "{unit}" '
            f'AND CustomerNumber = "{customer["customer_number"]}"'
        )
        return [w.id async for w in temporal.client.list_workflows(query)]

    assert await wait_for(listed) == [order["workflow_id"]]
    state = await temporal.client.get_workflow_handle(order["workflow_id"]).query("status")
    assert state["status"] == "confirmed" and state["start_date"] == str(start)


async def test_orders_come_a_page_at_a_time_with_the_number_matching(http, as_):
    admin, caseworker = as_("admin"), as_("caseworker")
    unit = await new_unit(http, admin)
    provider = as_("provider", unit=unit)
    today = today_in_stockholm()
    orders = []
    for days in (5, 4, 3):
        customer = await new_customer(http, caseworker)
        orders.append(
            await new_order(http, caseworker, customer, unit, today - timedelta(days=days))
        )
    ids = [o["id"] for o in orders]  # oldest decision first, as the list is ordered

    everything = await http.get("/orders", params={"status": "unconfirmed"}, headers=provider)
    assert [o["id"] for o in everything.json()] == ids  # without limit and offset: as before
    assert everything.headers["x-total-count"] == "3"

    pages = []
    for offset in (0, 2):
        page = await http.get(
            "/orders",
            params={"status": "unconfirmed", "limit": 2, "offset": offset},
            headers=provider,
        )
        assert page.status_code == 200, page.text
        assert page.headers["x-total-count"] == "3"
        pages.append([o["id"] for o in page.json()])
    assert pages == [ids[:2], ids[2:]]

    past = await http.get(
        "/orders", params={"status": "unconfirmed", "limit": 2, "offset": 10}, headers=provider
    )
    assert past.json() == [] and past.headers["x-total-count"] == "3"
    searched = await http.get(
        "/orders",
        params={"q": orders[1]["customer_number"], "limit": 1},
        headers=provider,
    )
    assert [o["id"] for o in searched.json()] == [ids[1]]
    assert searched.headers["x-total-count"] == "1"

    for bad in ({"limit": 0}, {"limit": 501}, {"offset": -1}):
        refused = await http.get("/orders", params=bad, headers=provider)
        assert refused.status_code == 422, bad


async def test_a_caseworker_lists_one_units_orders_and_a_provider_stays_at_its_own(http, as_):
    admin, caseworker = as_("admin"), as_("caseworker")
    north, south = await new_unit(http, admin), await new_unit(http, admin)
    decided = today_in_stockholm() - timedelta(days=2)
    at_north = await new_order(
        http, caseworker, await new_customer(http, caseworker), north, decided
    )
    await new_order(http, caseworker, await new_customer(http, caseworker), south, decided)

    listed = await http.get(
        "/orders", params={"status": "unconfirmed", "unit_id": north}, headers=caseworker
    )
    assert [o["id"] for o in listed.json()] == [at_north["id"]]
    assert listed.headers["x-total-count"] == "1"
    # a provider asking for another unit still sees only its own
    own = await http.get("/orders", params={"unit_id": north}, headers=as_("provider", unit=south))
    assert {o["unit_id"] for o in own.json()} == {south}
