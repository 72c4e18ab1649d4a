"""Every route of the platform, how to call each, and the data the calls need: one
customer's stay at a unit with something in every service (the `world`), shared by the
authorization matrix and the audit tests."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI

from services.common.dates import today_in_stockholm
from tests.integration.billing.helpers import TARIFFS, billing_knows, last_month, run_month
from tests.integration.conftest import Tokens, wait_for
from tests.integration.helpers import new_customer, new_order, new_unit
from tests.integration.helpers import test_personnummer as personnummer

# what every service serves to anyone: liveness, counters, the API's description
PUBLIC_PATHS = (
    "/health",
    "/ready",
    "/metrics",
    "/openapi.json",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
)


def routes_of(apps: dict[str, FastAPI]) -> set[tuple[str, str, str]]:
    """(service, method, path) of every route the apps serve. FastAPI (0.16x) keeps an
    included router as one entry of `app.routes`; its effective routes carry the paths."""
    served = set()
    for service, app in apps.items():
        for route in app.routes:
            effective = getattr(route, "effective_route_contexts", None)
            for one in effective() if effective is not None else [route]:
                for method in getattr(one, "methods", None) or ():
                    if method != "HEAD":
                        served.add((service, method, one.path))
    return served


@dataclass
class Call:
    path: str
    json: Any = None
    params: dict[str, str] | None = None
    files: dict[str, tuple[str, bytes, str]] | None = None


@dataclass
class World:
    """A customer's confirmed stay at unit A since the first of last month, with an absence,
    a held invoice, an old unconfirmed order (the IVO report), Lifecare's reminder about
    the customer in the unit's inbox and a copy forwarded to Bosam; a second customer whose
    invoice of the month is issued; a message with a file to the unit. The ids are in `ids`.
    A caller whose call changes a resource gets a fresh one from a `fresh_*` method."""

    clients: dict[str, httpx.AsyncClient]
    as_: Tokens
    unit: str
    other_unit: str
    customer: dict
    month_start: date
    sender: dict[str, str]
    ids: dict[str, str] = field(default_factory=dict)
    days: itertools.count = field(default_factory=lambda: itertools.count(10))
    months: itertools.count = field(default_factory=lambda: itertools.count(1))

    @staticmethod
    def sub(caller: str) -> str:
        """The `sub` of a caller's token."""
        return f"matrix-{caller.replace('_', '-')}"

    def headers(self, caller: str) -> dict[str, str]:
        if caller == "other_provider":
            return self.as_("provider", unit=self.other_unit, sub=self.sub(caller))
        unit = self.unit if caller in ("provider", "unit_admin") else None
        return self.as_(caller, unit=unit, sub=self.sub(caller))

    async def fresh_order(self) -> str:
        order = await new_order(
            self.clients["orders"],
            self.as_("caseworker"),
            self.customer,
            self.unit,
            self.month_start,
        )
        return order["id"]

    async def fresh_execution(self) -> str:
        confirmed = await self.clients["orders"].post(
            f"/orders/{await self.fresh_order()}/confirm",
            json={"start_date": str(self.month_start)},
            headers=self.headers("provider"),
        )
        assert confirmed.status_code == 200, confirmed.text
        return confirmed.json()["execution_id"]

    def fresh_absence_body(self) -> dict[str, str]:
        """Two days of absence no other absence of the customer touches; the first is
        `ids["first_day"]`, for a change that shortens it."""
        first = self.month_start + timedelta(days=2 * next(self.days))
        self.ids["first_day"] = str(first)
        return {
            "customer_id": self.customer["id"],
            "reason": "hospital",
            "description": "Inlagd",
            "from_date": str(first),
            "to_date": str(first + timedelta(days=1)),
        }

    async def fresh_absence(self) -> str:
        response = await self.clients["absence"].post(
            "/absences", json=self.fresh_absence_body(), headers=self.headers("provider")
        )
        assert response.status_code == 201, response.text
        return response.json()["id"]

    async def fresh_forwarded(self) -> str:
        """Lifecare's reminder about the customer, forwarded by the unit to Bosam."""
        response = await self.clients["messaging"].post(
            f"/messages/{self.ids['notice']}/forward",
            json={"to": ["group:bosam"], "body": "För kännedom"},
            headers=self.headers("provider"),
        )
        assert response.status_code == 201, response.text
        return response.json()["id"]

    async def fresh_membership(self) -> str:
        """A provider membership at the unit, since a month, for a new person."""
        response = await self.clients["identity"].post(
            "/memberships",
            json=new_membership(self),
            headers=self.headers("admin"),
        )
        assert response.status_code == 201, response.text
        return response.json()["id"]

    async def fresh_message(self) -> str:
        response = await self.clients["messaging"].post(
            "/messages",
            json={"to": [f"unit:{self.unit}"], "subject": "Om kunden", "body": "Hej!"},
            headers=self.sender,
        )
        assert response.status_code == 201, response.text
        return response.json()["id"]


Build = Callable[[World, bool], Awaitable[Call]]


def call(
    path: str,
    *,
    fresh: str | None = None,
    json: Any = None,
    params: dict[str, str] | None = None,
    files: dict[str, tuple[str, bytes, str]] | None = None,
) -> Build:
    """A call whose `{key}`s (in the path, the params and the body's texts) come from
    World.ids; with `fresh` (a World method), an allowed caller, whose call changes the
    resource, gets one of its own under the path's key."""

    async def build(world: World, allowed: bool) -> Call:
        made = await getattr(world, fresh)() if fresh and allowed else None
        ids = dict(world.ids)
        if made is not None:
            ids[path.split("{")[1].split("}")[0]] = made
        body = json
        if isinstance(json, dict):
            body = {k: v.format(**ids) if isinstance(v, str) else v for k, v in json.items()}
        return Call(
            path.format(**ids),
            json=body,
            params={k: v.format(**ids) for k, v in params.items()} if params else None,
            files=files,
        )

    return build


def made(path: str, body: Callable[[World], dict[str, Any]]) -> Build:
    """A call that makes something new, with a body of its own each time."""

    async def build(world: World, _allowed: bool) -> Call:
        return Call(path, json=body(world))

    return build


def new_membership(world: World) -> dict[str, str]:
    """A new person's provider membership at the world's unit, since the month began."""
    return {
        "sub": f"idp|{uuid.uuid4().hex[:12]}",
        "name": "Nina Ny",
        "role": "provider",
        "unit": world.unit,
        "valid_from": str(world.month_start),
    }


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
BY_CUSTOMER = {"customer_id": "{customer}"}

CALLS: dict[tuple[str, str, str], Build] = {
    ("orders", "POST", "/units"): made(
        "/units", lambda w: {"id": f"unit-{uuid.uuid4().hex[:8]}", "name": "Nya gården"}
    ),
    ("orders", "POST", "/customers"): made(
        "/customers",
        lambda w: {"personnummer": personnummer(), "first_name": "Nils", "last_name": "Ny"},
    ),
    ("orders", "GET", "/customers"): call("/customers", params={"q": "{customer_number}"}),
    ("orders", "GET", "/customers/{customer_id}"): call("/customers/{customer}"),
    ("orders", "GET", "/customers/{customer_id}/executions"): call(
        "/customers/{customer}/executions"
    ),
    ("orders", "POST", "/orders"): call(
        "/orders",
        json={
            "customer_id": "{customer}",
            "unit_id": "{unit}",
            "decision_date": "{start}",
            "text": "Särskilt boende",
        },
    ),
    ("orders", "GET", "/orders"): call("/orders", params={"q": "{customer_number}"}),
    ("orders", "GET", "/orders/{order_id}"): call("/orders/{order}"),
    ("orders", "GET", "/orders/{order_id}/print"): call("/orders/{order}/print"),
    ("orders", "POST", "/orders/{order_id}/confirm"): call(
        "/orders/{unconfirmed}/confirm", fresh="fresh_order", json={"start_date": "{start}"}
    ),
    ("orders", "POST", "/orders/{order_id}/withdraw"): call(
        "/orders/{unconfirmed}/withdraw", fresh="fresh_order", json={"reason": "Fel enhet"}
    ),
    ("orders", "GET", "/executions/{execution_id}"): call("/executions/{execution}"),
    ("orders", "POST", "/executions/{execution_id}/end"): call(
        "/executions/{execution}/end",
        fresh="fresh_execution",
        json={"end_date": "{start}", "reason": "moved_home", "confirmed": True},
    ),
    ("orders", "GET", "/audit"): call("/audit", params=BY_CUSTOMER),
    ("absence", "POST", "/absences"): made("/absences", lambda w: w.fresh_absence_body()),
    ("absence", "GET", "/absences"): call("/absences", params=BY_CUSTOMER),
    ("absence", "GET", "/absences/{absence_id}"): call("/absences/{absence}"),
    ("absence", "PATCH", "/absences/{absence_id}"): call(
        "/absences/{absence}", fresh="fresh_absence", json={"to_date": "{first_day}"}
    ),
    ("absence", "DELETE", "/absences/{absence_id}"): call(
        "/absences/{absence}", fresh="fresh_absence"
    ),
    ("absence", "POST", "/absences/{absence_id}/handled"): call(
        "/absences/{absence}/handled", fresh="fresh_absence"
    ),
    ("absence", "GET", "/audit"): call("/audit", params=BY_CUSTOMER),
    ("billing", "PUT", "/tariffs"): call("/tariffs", json=TARIFFS),
    ("billing", "POST", "/fee-decisions"): call(
        "/fee-decisions",
        json={
            "customer_id": "{customer}",
            "care_monthly_amount": "2000.00",
            "valid_from": "{start}",
        },
    ),
    ("billing", "GET", "/fee-decisions"): call("/fee-decisions", params=BY_CUSTOMER),
    # a month of 2021 nobody else bills: each allowed caller starts a run of its own
    ("billing", "POST", "/billing-runs"): made(
        "/billing-runs", lambda w: {"period": f"2021-{next(w.months):02d}"}
    ),
    ("billing", "GET", "/billing-runs"): call("/billing-runs"),
    ("billing", "GET", "/billing-runs/{run_id}"): call("/billing-runs/{run}"),
    ("billing", "GET", "/billing-runs/{run_id}/uncorrected"): call(
        "/billing-runs/{run}/uncorrected"
    ),
    ("billing", "GET", "/invoices/export"): call("/invoices/export", params={"period": "{period}"}),
    ("billing", "GET", "/invoices"): call("/invoices", params=BY_CUSTOMER),
    ("billing", "GET", "/invoices/{invoice_id}"): call("/invoices/{invoice}"),
    ("billing", "POST", "/invoices/{invoice_id}/release"): call("/invoices/{invoice}/release"),
    ("billing", "GET", "/audit"): call("/audit", params=BY_CUSTOMER),
    ("messaging", "GET", "/mailboxes"): call("/mailboxes", params={"q": "bosam"}),
    ("messaging", "POST", "/attachments"): call(
        "/attachments", files={"file": ("plan.pdf", PDF, "application/pdf")}
    ),
    ("messaging", "GET", "/attachments/{attachment_id}"): call("/attachments/{attachment}"),
    ("messaging", "POST", "/messages"): call(
        "/messages", json={"to": ["group:bosam"], "subject": "Fråga", "body": "Hej"}
    ),
    ("messaging", "GET", "/messages/{message_id}"): call("/messages/{message}"),
    ("messaging", "GET", "/messages/{message_id}/print"): call("/messages/{message}/print"),
    ("messaging", "POST", "/messages/{message_id}/reply"): call(
        "/messages/{message}/reply", json={"body": "Tack"}
    ),
    ("messaging", "POST", "/messages/{message_id}/forward"): call(
        "/messages/{message}/forward", json={"to": ["group:bosam"], "body": ""}
    ),
    ("messaging", "DELETE", "/messages/{message_id}"): call(
        "/messages/{message}", fresh="fresh_message"
    ),
    ("messaging", "GET", "/audit"): call("/audit", params=BY_CUSTOMER),
    ("identity", "GET", "/units/{unit}/memberships"): call("/units/{unit}/memberships"),
    ("identity", "POST", "/memberships"): made("/memberships", new_membership),
    ("identity", "POST", "/memberships/{membership_id}/end"): call(
        "/memberships/{membership}/end", fresh="fresh_membership", json={"valid_to": "{today}"}
    ),
    ("identity", "GET", "/people/{sub}/memberships"): call("/people/{person}/memberships"),
    ("identity", "POST", "/tokens"): call(
        "/tokens", json={"sub": "{person}", "role": "provider", "unit": "{unit}"}
    ),
}


def call_of(key: tuple[str, str, str]) -> Build:
    """How to call a route: its row of CALLS, or a plain call of its path."""
    return CALLS.get(key) or call(key[2])


async def build_world(
    clients: dict[str, httpx.AsyncClient], as_: Tokens, pool: asyncpg.Pool
) -> World:
    """Make the world through the services' APIs."""
    orders, admin = clients["orders"], as_("admin")
    month = last_month()
    world = World(
        clients=clients,
        as_=as_,
        unit=await new_unit(orders, admin),
        other_unit=await new_unit(orders, admin),
        customer=await new_customer(orders, as_("caseworker")),
        month_start=month.first_day,
        sender=as_("coordinator", sub=f"bo-{uuid.uuid4().hex[:6]}"),
    )
    order_id = await world.fresh_order()
    world.ids.update(
        customer=world.customer["id"],
        customer_number=world.customer["customer_number"],
        unit=world.unit,
        start=str(month.first_day),
        period=str(month),
        today=str(today_in_stockholm()),
        unconfirmed=await world.fresh_order(),
    )
    if "identity" in clients:  # a person with a membership at the unit
        world.ids["membership"] = await world.fresh_membership()
        membership = await clients["identity"].get(
            f"/units/{world.unit}/memberships", headers=world.headers("admin")
        )
        world.ids["person"] = membership.json()[0]["sub"]
    confirmed = await orders.post(
        f"/orders/{order_id}/confirm",
        json={"start_date": str(month.first_day)},
        headers=world.headers("provider"),
    )
    assert confirmed.status_code == 200, confirmed.text
    world.ids.update(order=order_id, execution=confirmed.json()["execution_id"])

    # the absence service learns the stay from order.confirmed
    world.ids["absence"] = await wait_for(_absence_registered(world))

    # decided 100 days ago and still unconfirmed: in the IVO report
    old = await new_order(
        orders,
        as_("caseworker"),
        world.customer,
        world.unit,
        today_in_stockholm() - timedelta(days=100),
    )
    world.ids["old_order"] = old["id"]

    # a second customer at the unit, with a fee decision: the month's invoice is issued
    other = await new_customer(orders, as_("caseworker"))
    other_order = await new_order(orders, as_("caseworker"), other, world.unit, month.first_day)
    confirmed = await orders.post(
        f"/orders/{other_order['id']}/confirm",
        json={"start_date": str(month.first_day)},
        headers=world.headers("provider"),
    )
    assert confirmed.status_code == 200, confirmed.text
    world.ids["customer2"] = other["id"]

    # a held invoice (no fee decision) of last month, once billing knows the stay
    await billing_knows(
        pool, "SELECT true FROM billing.stays WHERE customer_id = $1::uuid", world.customer["id"]
    )
    await billing_knows(
        pool, "SELECT true FROM billing.stays WHERE customer_id = $1::uuid", other["id"]
    )
    billing = clients["billing"]
    assert (await billing.put("/tariffs", json=TARIFFS, headers=as_("fee_admin"))).is_success
    decided = await billing.post(
        "/fee-decisions",
        json={
            "customer_id": other["id"],
            "care_monthly_amount": "2000.00",
            "valid_from": str(month.first_day),
        },
        headers=as_("fee_admin"),
    )
    assert decided.status_code == 201, decided.text
    run = await run_month(billing, as_, month)
    [held] = await _invoices(billing, as_, world.customer["id"])
    [issued] = await _invoices(billing, as_, other["id"])
    assert (held["status"], issued["status"]) == ("held", "issued")
    world.ids.update(run=run["id"], invoice=held["id"], issued_invoice=issued["id"])

    # a message with a file from a coordinator to the unit, once messaging knows the unit
    messaging = clients["messaging"]
    uploaded = await messaging.post(
        "/attachments", files={"file": ("plan.pdf", PDF, "application/pdf")}, headers=world.sender
    )
    assert uploaded.status_code == 201, uploaded.text
    await wait_for(_knows_mailbox(messaging, world, f"unit:{world.unit}"))
    sent = await messaging.post(
        "/messages",
        json={
            "to": [f"unit:{world.unit}"],
            "subject": "Genomförandeplan",
            "body": "Se bilagan.",
            "attachment_ids": [uploaded.json()["id"]],
        },
        headers=world.sender,
    )
    assert sent.status_code == 201, sent.text
    world.ids.update(message=sent.json()["id"], attachment=uploaded.json()["id"])

    # Lifecare reminds the unit of the unconfirmed orders; forwarded to Bosam, the copy
    # concerns the customer as the reminder does
    world.ids["notice"] = await wait_for(_reminder_about(world, world.customer["id"]))
    world.ids["forwarded"] = await world.fresh_forwarded()
    return world


async def _invoices(billing: httpx.AsyncClient, as_: Tokens, customer_id: str) -> list[dict]:
    response = await billing.get(
        "/invoices", params={"customer_id": customer_id}, headers=as_("fee_admin")
    )
    assert response.status_code == 200, response.text
    return response.json()


def _reminder_about(world: World, customer_id: str) -> Callable[[], Awaitable[str | None]]:
    async def reminded() -> str | None:
        response = await world.clients["messaging"].get(
            "/messages", params={"folder": "inbox"}, headers=world.headers("provider")
        )
        number = world.customer["customer_number"]
        for message in response.json():
            if message["kind"] == "order.reminder" and number in message["subject"]:
                return message["id"]
        return None

    return reminded


def _absence_registered(world: World) -> Callable[[], Awaitable[str | None]]:
    async def registered() -> str | None:
        response = await world.clients["absence"].post(
            "/absences", json=world.fresh_absence_body(), headers=world.headers("provider")
        )
        return response.json()["id"] if response.status_code == 201 else None

    return registered


def _knows_mailbox(
    client: httpx.AsyncClient, world: World, mailbox: str
) -> Callable[[], Awaitable[bool]]:
    async def known() -> bool:
        response = await client.get("/mailboxes", params={"q": mailbox}, headers=world.sender)
        return any(m["id"] == mailbox for m in response.json())

    return known
