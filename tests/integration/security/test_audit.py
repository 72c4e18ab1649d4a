"""Loggkontroll: every read and change of a customer's data, in every service, leaves an
audit row; an admin gets one customer's rows from all services, oldest first, in one call
(the orders service's GET /audit), or a 503 that names a service that did not answer.

AUDITED says, for each route that touches a customer, who calls it and the action its row
names; NOT_CUSTOMER_DATA says why the other routes leave none. A route in neither fails
`test_every_route_is_audited_or_says_why_not`.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
import httpx
import pytest

from services.common.settings import Settings
from services.orders.main import build as build_orders
from tests.integration.conftest import Tokens
from tests.integration.security.routes import PUBLIC_PATHS, Build, World, call, call_of, routes_of
from tests.integration.serving import free_socket, url_of


@dataclass(frozen=True)
class Audited:
    caller: str  # a role of World.headers
    action: str
    whose: str | None = "customer"  # the World.ids key of the customer; None: the one made
    call: Build | None = None  # instead of the authorization matrix's call


AUDITED: dict[tuple[str, str, str], Audited] = {
    ("orders", "POST", "/customers"): Audited("caseworker", "customer.create", whose=None),
    ("orders", "GET", "/customers"): Audited("caseworker", "customer.search"),
    ("orders", "GET", "/customers/{customer_id}"): Audited("provider", "customer.read"),
    ("orders", "GET", "/customers/{customer_id}/executions"): Audited("provider", "execution.list"),
    ("orders", "POST", "/orders"): Audited("caseworker", "order.create"),
    ("orders", "GET", "/orders"): Audited("provider", "order.list"),
    ("orders", "GET", "/orders/{order_id}"): Audited("provider", "order.read"),
    ("orders", "GET", "/orders/{order_id}/print"): Audited("provider", "order.print"),
    ("orders", "POST", "/orders/{order_id}/confirm"): Audited("provider", "order.confirm"),
    ("orders", "POST", "/orders/{order_id}/withdraw"): Audited("caseworker", "order.withdraw"),
    ("orders", "GET", "/executions/{execution_id}"): Audited("fee_admin", "execution.read"),
    ("orders", "POST", "/executions/{execution_id}/end"): Audited("provider", "execution.end"),
    ("orders", "GET", "/reports/unexecuted-decisions"): Audited("caseworker", "report.unexecuted"),
    ("orders", "GET", "/audit"): Audited("admin", "audit.read"),
    ("absence", "POST", "/absences"): Audited("provider", "absence.register"),
    ("absence", "GET", "/absences"): Audited("fee_admin", "absence.list"),
    ("absence", "GET", "/absences/{absence_id}"): Audited("provider", "absence.read"),
    ("absence", "PATCH", "/absences/{absence_id}"): Audited("provider", "absence.update"),
    ("absence", "DELETE", "/absences/{absence_id}"): Audited("provider", "absence.remove"),
    ("absence", "POST", "/absences/{absence_id}/handled"): Audited("fee_admin", "absence.handled"),
    ("absence", "GET", "/audit"): Audited("admin", "audit.read"),
    ("billing", "POST", "/fee-decisions"): Audited("fee_admin", "fee_decision.create"),
    ("billing", "GET", "/fee-decisions"): Audited("admin", "fee_decision.list"),
    # the export holds issued invoices only: the second customer's
    ("billing", "GET", "/invoices/export"): Audited("admin", "invoice.export", whose="customer2"),
    ("billing", "GET", "/invoices"): Audited("fee_admin", "invoice.list"),
    ("billing", "GET", "/invoices/{invoice_id}"): Audited("admin", "invoice.read"),
    ("billing", "POST", "/invoices/{invoice_id}/release"): Audited("fee_admin", "invoice.release"),
    ("billing", "GET", "/audit"): Audited("admin", "audit.read"),
    # in the inbox, Lifecare's reminder about the customer and the copy the unit forwarded
    ("messaging", "GET", "/messages"): Audited("provider", "message.list"),
    ("messaging", "GET", "/messages/{message_id}"): Audited(
        "provider", "message.read", call=call("/messages/{notice}")
    ),
    ("messaging", "GET", "/messages/{message_id}/print"): Audited(
        "provider", "message.print", call=call("/messages/{notice}/print")
    ),
    ("messaging", "POST", "/messages/{message_id}/reply"): Audited(
        "coordinator",
        "message.reply",
        call=call("/messages/{forwarded}/reply", json={"body": "Vi tar det."}),
    ),
    ("messaging", "POST", "/messages/{message_id}/forward"): Audited(
        "provider",
        "message.forward",
        call=call("/messages/{notice}/forward", json={"to": ["group:avgifter"], "body": ""}),
    ),
    ("messaging", "DELETE", "/messages/{message_id}"): Audited(
        "coordinator",
        "message.delete",
        call=call("/messages/{forwarded}", fresh="fresh_forwarded"),
    ),
    ("messaging", "GET", "/audit"): Audited("admin", "audit.read"),
}

PUBLIC = "no token, no customer data: health, counters and the API's description"
SERVICES = ("orders", "absence", "billing", "messaging", "identity")
STAFF = "staff, not customers: each change and each token issued is a row of identity.audit"
NOT_CUSTOMER_DATA: dict[tuple[str, str, str], str] = {
    **{(service, "GET", path): PUBLIC for service in SERVICES for path in PUBLIC_PATHS},
    ("orders", "POST", "/units"): "a provider unit",
    ("orders", "GET", "/units"): "the provider units",
    ("billing", "GET", "/tariffs"): "the municipality's tariffs",
    ("billing", "PUT", "/tariffs"): "the municipality's tariffs",
    ("billing", "POST", "/billing-runs"): "starts a run; the run logs each invoice it makes "
    "(invoice.issue, invoice.hold), see test_an_admin_gets_every_services_rows…",
    ("billing", "GET", "/billing-runs"): "runs' counts and totals, nobody's invoice",
    ("billing", "GET", "/billing-runs/{run_id}"): "a run's counts and total, nobody's invoice",
    # audited (billing_run.uncorrected) for each customer it lists, proved in
    # tests/integration/billing/test_correction_window.py; the world's run leaves no month
    ("billing", "GET", "/billing-runs/{run_id}/uncorrected"): "lists no customer of the world's "
    "run, which leaves no month uncorrected; audited per customer listed (billing tests)",
    ("messaging", "GET", "/mailboxes"): "the directory of mailboxes",
    ("messaging", "POST", "/attachments"): "an upload: the uploader's file, about nobody yet",
    ("messaging", "GET", "/attachments/{attachment_id}"): "a file of a person's message, "
    "which names no customer (only Lifecare's notices and their copies do)",
    ("messaging", "POST", "/messages"): "a person's new message names no customer",
    ("messaging", "GET", "/messages/unread-count"): "a number",
    ("identity", "GET", "/.well-known/jwks.json"): "public keys",
    ("identity", "GET", "/units/{unit}/memberships"): STAFF,
    ("identity", "POST", "/memberships"): STAFF,
    ("identity", "POST", "/memberships/{membership_id}/end"): STAFF,
    ("identity", "GET", "/people/{sub}/memberships"): STAFF,
    ("identity", "POST", "/tokens"): STAFF,
}


async def test_every_route_is_audited_or_says_why_not(
    orders_app, absence_app, billing_app, messaging_app, identity_app
):
    served = routes_of(
        {
            "orders": orders_app,
            "absence": absence_app,
            "billing": billing_app,
            "messaging": messaging_app,
            "identity": identity_app,
        }
    )
    assert set(AUDITED) & set(NOT_CUSTOMER_DATA) == set()
    assert served - set(AUDITED) - set(NOT_CUSTOMER_DATA) == set(), "say if it is audited"
    assert set(AUDITED) | set(NOT_CUSTOMER_DATA) <= served


async def trail(world: World, customer_id: str) -> list[dict]:
    """The customer's audit log as an admin reads it (an admin of its own, `auditor`)."""
    response = await world.clients["orders"].get(
        "/audit",
        params={"customer_id": customer_id},
        headers=world.as_("admin", sub="auditor"),
    )
    assert response.status_code == 200, response.text
    return response.json()


def counted(rows: list[dict]) -> Counter[tuple[str, str, str]]:
    return Counter((row["service"], row["action"], row["actor_sub"]) for row in rows)


@pytest.mark.parametrize("key", list(AUDITED), ids=lambda key: " ".join(key))
async def test_a_route_that_touches_a_customer_leaves_an_audit_row(
    world: World, key: tuple[str, str, str]
):
    service, method, _path = key
    audited = AUDITED[key]
    whose = world.ids[audited.whose] if audited.whose else None
    before = counted(await trail(world, whose)) if whose else Counter()

    request = await (audited.call or call_of(key))(world, True)
    response = await world.clients[service].request(
        method,
        request.path,
        json=request.json,
        params=request.params,
        files=request.files,
        headers=world.headers(audited.caller),
    )
    assert response.is_success, response.text

    whose = whose or response.json()["id"]
    grown = counted(await trail(world, whose)) - before
    assert grown[(service, audited.action, world.sub(audited.caller))] == 1, grown


async def test_an_admin_gets_every_services_rows_of_a_customer_in_one_call(world: World):
    customer = world.ids["customer"]
    answer = await world.clients["orders"].get(
        "/audit",
        params={"customer_id": customer},
        headers={**world.as_("admin", sub="auditor"), "X-Request-ID": "loggkontroll-1"},
    )
    assert answer.status_code == 200, answer.text
    rows = answer.json()
    assert {row["service"] for row in rows} == {"orders", "absence", "billing", "messaging"}
    assert [row["at"] for row in rows] == sorted(row["at"] for row in rows)
    assert all(row["request_id"] and row["actor_role"] for row in rows)
    done = {(row["service"], row["actor_sub"], row["action"]) for row in rows}
    assert ("orders", "tester", "customer.create") in done  # the caseworker
    assert ("orders", "matrix-provider", "order.confirm") in done
    assert ("absence", "matrix-provider", "absence.register") in done
    assert ("billing", "tester", "invoice.list") in done  # the fee administrator
    # the month's run made the invoice, at the fee administrator's request
    [made] = [row for row in rows if row["action"] == "invoice.hold"]
    assert (made["actor_sub"], made["actor_role"]) == ("tester", "billing_run")
    assert made["resource"] == f"invoice:{world.ids['invoice']}"
    assert ("messaging", "matrix-provider", "message.forward") in done

    # reading the log is in it too, in every service, under the server's id of the request
    # (the peers' rows name it as their correlation value); the client's id is beside it
    server_id = answer.headers["X-Request-ID"]
    assert answer.headers["X-Correlation-ID"] == "loggkontroll-1"
    again = await trail(world, customer)
    read = {
        row["service"]: row["request_id"].split(" ")
        for row in again
        if row["action"] == "audit.read" and server_id in row["request_id"].split(" ")
    }
    assert set(read) == {"orders", "absence", "billing", "messaging"}
    assert read["orders"] == [server_id, "loggkontroll-1"]


async def test_a_service_that_does_not_answer_makes_the_log_a_503_that_names_it(
    served: dict[str, str], settings: Settings, pool: asyncpg.Pool, as_: Tokens
):
    refused = free_socket()  # bound, never served: the connection is refused
    silent = free_socket()  # listening, never answered: the request times out
    silent.listen()
    try:
        app = build_orders(
            settings.model_copy(
                update={
                    "billing_url": url_of(refused),
                    "messaging_url": url_of(silent),
                    "peer_timeout": timedelta(seconds=0.5),
                }
            )
        )
        app.state.pool = pool  # /audit needs the pool only: no relay, no workflow client
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://orders") as orders:
            answer = await orders.get(
                "/audit", params={"customer_id": str(uuid.uuid4())}, headers=as_("admin")
            )
    finally:
        refused.close()
        silent.close()
    assert answer.status_code == 503
    error = answer.json()["error"]
    assert error["code"] == "audit_incomplete"
    assert "billing could not be reached" in error["message"]
    assert "messaging did not answer in time" in error["message"]
    assert "absence" not in error["message"]
