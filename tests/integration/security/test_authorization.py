"""Who may call what: every route of every service, from one table, called by every role, by
a provider of the resource's unit and of another unit, and with no, an expired, a forged
and an unsigned token.

MATRIX holds, per (service, method, path), the answer each kind of caller gets. A route a
service serves that has no row fails `test_every_route_has_a_row`, so a new route cannot
ship without saying who may call it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt
import pytest

from services.common.auth import issue_token
from services.common.settings import Settings
from tests.integration.security.routes import CALLS, PUBLIC_PATHS, World, call_of, routes_of

# the callers with a valid token; `provider` is of the resource's unit, `other_provider`
# of another unit
CALLERS = (
    "caseworker",
    "coordinator",
    "fee_admin",
    "admin",
    "provider",
    "other_provider",
    "unit_admin",
)
# the roles that work with customers' data
ALL = ("caseworker", "coordinator", "fee_admin", "admin", "provider")
# ... and the unit's access administrator, who may message and see the units, nothing more
EVERYONE = (*ALL, "unit_admin")
# tokens that prove nothing: every route but the public ones answers 401
BAD_TOKENS = ("none", "expired", "forged", "unsigned")
OTHER_SECRET = "a-secret-of-the-same-length-that-is-not-ours"


@dataclass(frozen=True)
class Rule:
    """The answer of a route to each caller."""

    allowed: tuple[str, ...]  # roles that get `ok` ("provider": of the resource's unit)
    ok: int = 200
    refused: int = 403  # every other role: 403, or 404 where the resource is hidden
    other_unit: int = 404  # a provider of another unit, where providers are allowed
    public: bool = False  # no token needed (health, the API's description)
    # a list that must show the resource (its key in World.ids) to `seen_by` (by default
    # the allowed roles) and to nobody else
    lists: str | None = None
    seen_by: tuple[str, ...] | None = None

    def expected(self, caller: str) -> int:
        if self.public:
            return self.ok
        if caller == "other_provider":
            return self.other_unit if "provider" in self.allowed else self.refused
        return self.ok if caller in self.allowed else self.refused

    def sees(self, caller: str) -> bool:
        return caller in (self.allowed if self.seen_by is None else self.seen_by)


PUBLIC = Rule(allowed=(), public=True)
ANYONE = Rule(allowed=EVERYONE, other_unit=200)
ACCESS_ADMINS = ("admin", "unit_admin")
# the identity service's routes for the web UI take its service credential, no person's token
WEB_UI_ONLY = Rule(allowed=(), refused=401)


def public_routes(service: str) -> dict[tuple[str, str, str], Rule]:
    return {(service, "GET", path): PUBLIC for path in PUBLIC_PATHS}


MATRIX: dict[tuple[str, str, str], Rule] = {
    **public_routes("orders"),
    ("orders", "POST", "/units"): Rule(("admin",), ok=201),
    ("orders", "GET", "/units"): ANYONE,
    ("orders", "POST", "/customers"): Rule(("caseworker",), ok=201),
    ("orders", "GET", "/customers"): Rule(ALL, other_unit=200, lists="customer"),
    ("orders", "GET", "/customers/{customer_id}"): Rule(ALL),
    ("orders", "GET", "/customers/{customer_id}/executions"): Rule(ALL),
    ("orders", "POST", "/orders"): Rule(("caseworker",), ok=201),
    ("orders", "GET", "/orders"): Rule(ALL, other_unit=200, lists="order"),
    ("orders", "GET", "/orders/{order_id}"): Rule(ALL),
    ("orders", "GET", "/orders/{order_id}/print"): Rule(ALL),
    ("orders", "POST", "/orders/{order_id}/confirm"): Rule(("provider",)),
    ("orders", "POST", "/orders/{order_id}/withdraw"): Rule(("caseworker",)),
    ("orders", "GET", "/executions/{execution_id}"): Rule(
        ("provider", "caseworker", "fee_admin", "admin")
    ),
    ("orders", "POST", "/executions/{execution_id}/end"): Rule(("provider",)),
    ("orders", "GET", "/reports/unexecuted-decisions"): Rule(("caseworker", "admin")),
    ("orders", "GET", "/audit"): Rule(("admin",)),
    **public_routes("absence"),
    ("absence", "POST", "/absences"): Rule(("provider",), ok=201),
    ("absence", "GET", "/absences"): Rule(
        ("provider", "fee_admin"), other_unit=200, lists="absence"
    ),
    ("absence", "GET", "/absences/{absence_id}"): Rule(("provider", "fee_admin")),
    ("absence", "PATCH", "/absences/{absence_id}"): Rule(("provider",)),
    ("absence", "DELETE", "/absences/{absence_id}"): Rule(("provider",), ok=204),
    ("absence", "POST", "/absences/{absence_id}/handled"): Rule(("fee_admin",)),
    ("absence", "GET", "/audit"): Rule(("admin",)),
    **public_routes("billing"),
    ("billing", "GET", "/tariffs"): Rule(("fee_admin", "admin")),
    ("billing", "PUT", "/tariffs"): Rule(("fee_admin",)),
    ("billing", "POST", "/fee-decisions"): Rule(("fee_admin",), ok=201),
    ("billing", "GET", "/fee-decisions"): Rule(("fee_admin", "admin")),
    ("billing", "POST", "/billing-runs"): Rule(("fee_admin", "admin"), ok=202),
    ("billing", "GET", "/billing-runs"): Rule(("fee_admin", "admin")),
    ("billing", "GET", "/billing-runs/{run_id}"): Rule(("fee_admin", "admin")),
    ("billing", "GET", "/billing-runs/{run_id}/uncorrected"): Rule(("fee_admin", "admin")),
    ("billing", "GET", "/invoices/export"): Rule(("fee_admin", "admin")),
    ("billing", "GET", "/invoices"): Rule(("fee_admin", "admin"), lists="invoice"),
    ("billing", "GET", "/invoices/{invoice_id}"): Rule(("fee_admin", "admin")),
    ("billing", "POST", "/invoices/{invoice_id}/release"): Rule(("fee_admin",)),
    ("billing", "GET", "/audit"): Rule(("admin",)),
    **public_routes("messaging"),
    # a message and its files exist only for its sender and recipients (here: the unit)
    ("messaging", "GET", "/mailboxes"): ANYONE,
    ("messaging", "POST", "/attachments"): Rule(EVERYONE, ok=201, other_unit=201),
    ("messaging", "GET", "/attachments/{attachment_id}"): Rule(("provider",), refused=404),
    ("messaging", "POST", "/messages"): Rule(EVERYONE, ok=201, other_unit=201),
    ("messaging", "GET", "/messages"): Rule(
        EVERYONE, other_unit=200, lists="message", seen_by=("provider",)
    ),
    ("messaging", "GET", "/messages/unread-count"): ANYONE,
    ("messaging", "GET", "/messages/{message_id}"): Rule(("provider",), refused=404),
    ("messaging", "GET", "/messages/{message_id}/print"): Rule(("provider",), refused=404),
    ("messaging", "POST", "/messages/{message_id}/reply"): Rule(("provider",), ok=201, refused=404),
    ("messaging", "POST", "/messages/{message_id}/forward"): Rule(
        ("provider",), ok=201, refused=404
    ),
    ("messaging", "DELETE", "/messages/{message_id}"): Rule(("provider",), ok=204, refused=404),
    ("messaging", "GET", "/audit"): Rule(("admin",)),
    **public_routes("identity"),
    ("identity", "GET", "/.well-known/jwks.json"): PUBLIC,
    # a unit_admin of the unit, an admin; a unit_admin of another unit: tests/integration/identity
    ("identity", "GET", "/units/{unit}/memberships"): Rule(ACCESS_ADMINS),
    ("identity", "POST", "/memberships"): Rule(ACCESS_ADMINS, ok=201),
    ("identity", "POST", "/memberships/{membership_id}/end"): Rule(ACCESS_ADMINS),
    ("identity", "GET", "/people/{sub}/memberships"): WEB_UI_ONLY,
    ("identity", "POST", "/tokens"): WEB_UI_ONLY,
}


def bad_headers(settings: Settings, kind: str) -> dict[str, str]:
    """A token that proves nothing: missing, expired, signed with another key, unsigned."""
    claims = {"sub": "mallory", "name": "Mallory", "role": "admin"}
    if kind == "none":
        return {}
    if kind == "expired":
        token = issue_token(settings, **claims, ttl=timedelta(minutes=-1))
    elif kind == "forged":
        token = jwt.encode(
            {**claims, "exp": 4102444800},
            "not-our-secret-but-just-as-long-as-one",
            algorithm="HS256",
        )
    else:
        token = jwt.encode({**claims, "exp": 4102444800}, None, algorithm="none")
    return {"Authorization": f"Bearer {token}"}


def _ids(body: Any) -> set[str]:
    return {item["id"] for item in body} if isinstance(body, list) else set()


def _order(rule: Rule, caller: str) -> int:
    """Tokens that prove nothing first, refused callers next, the allowed last: a call that
    is let through may change what the others would see."""
    if caller in BAD_TOKENS:
        return 0
    return 2 if rule.expected(caller) == rule.ok and not rule.public else 1


@pytest.mark.parametrize("key", sorted(MATRIX), ids=lambda key: " ".join(key))
async def test_every_caller_gets_the_answer_the_table_gives(
    world: World, settings: Settings, key: tuple[str, str, str]
):
    service, method, path = key
    rule = MATRIX[key]
    build = call_of(key)
    wrong = []
    for caller in sorted((*BAD_TOKENS, *CALLERS), key=lambda c: _order(rule, c)):
        bad = caller in BAD_TOKENS
        expected = (rule.ok if rule.public else 401) if bad else rule.expected(caller)
        request = await build(world, not bad and expected == rule.ok)
        response = await world.clients[service].request(
            method,
            request.path,
            json=request.json,
            params=request.params,
            files=request.files,
            headers=bad_headers(settings, caller) if bad else world.headers(caller),
        )
        if response.status_code != expected:
            wrong.append(
                f"{caller}: {response.status_code} {response.text[:120]} (want {expected})"
            )
        elif rule.lists and response.status_code == 200:
            shown = world.ids[rule.lists] in _ids(response.json())
            if shown != rule.sees(caller):
                wrong.append(f"{caller}: the {rule.lists} is {'' if shown else 'not '}listed")
    assert not wrong, f"{method} {path} of {service}:\n" + "\n".join(wrong)


async def test_every_route_has_a_row(
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
    assert served - set(MATRIX) == set(), "routes without a row in MATRIX"
    assert set(MATRIX) - served == set(), "rows of MATRIX no service serves"
    assert set(CALLS) <= set(MATRIX)
