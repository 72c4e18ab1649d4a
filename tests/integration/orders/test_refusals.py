"""Every bad input of the orders contract gets its 4xx, and another unit's data is a 404."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from services.common.dates import today_in_stockholm
from tests.integration.helpers import new_customer, new_order, new_unit


@pytest.fixture
async def world(http, as_):
    """Two units, a customer with a confirmed order at the first, and callers for each."""
    admin, caseworker = as_("admin"), as_("caseworker")
    unit, other_unit = await new_unit(http, admin), await new_unit(http, admin)
    provider = as_("provider", unit=unit)
    customer = await new_customer(http, caseworker)
    today = today_in_stockholm()
    order = await new_order(http, caseworker, customer, unit, today - timedelta(days=1))
    confirmed = await http.post(
        f"/orders/{order['id']}/confirm",
        json={"start_date": str(today + timedelta(days=10))},
        headers=provider,
    )
    assert confirmed.status_code == 200, confirmed.text
    return {
        "admin": admin,
        "caseworker": caseworker,
        "provider": provider,
        "stranger": as_("provider", unit=other_unit),
        "unit": unit,
        "customer": customer,
        "order": confirmed.json(),
        "today": today,
    }


async def test_another_units_provider_gets_404_everywhere(http, world):
    stranger, order = world["stranger"], world["order"]
    reads = [
        f"/orders/{order['id']}",
        f"/orders/{order['id']}/print",
        f"/customers/{world['customer']['id']}",
        f"/customers/{world['customer']['id']}/executions",
        f"/executions/{order['execution_id']}",
    ]
    for path in reads:
        response = await http.get(path, headers=stranger)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"].endswith("_not_found")
    ended = await http.post(
        f"/executions/{order['execution_id']}/end",
        json={
            "end_date": str(world["today"] + timedelta(days=20)),
            "reason": "other",
            "confirmed": True,
        },
        headers=stranger,
    )
    assert ended.status_code == 404
    assert (await http.get("/orders", headers=stranger)).json() == []
    found = await http.get(
        "/customers", params={"q": world["customer"]["customer_number"]}, headers=stranger
    )
    assert found.json() == []


async def test_missing_forged_and_expired_tokens_are_401(http, settings):
    assert (await http.get("/orders")).status_code == 401
    forged = jwt.encode(
        {"sub": "x", "role": "admin", "exp": datetime.now(UTC) + timedelta(hours=1)},
        "not-the-secret-but-long-enough-for-hs256-keys",
        algorithm="HS256",
    )
    response = await http.get("/orders", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401 and response.json()["error"]["code"] == "token_invalid"
    expired = jwt.encode(
        {"sub": "x", "role": "admin", "exp": datetime.now(UTC) - timedelta(minutes=1)},
        settings.jwt_secret.get_secret_value(),
        algorithm="HS256",
    )
    response = await http.get("/orders", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401 and response.json()["error"]["code"] == "token_expired"
    assert (await http.get("/health")).status_code == 200  # health needs no token


@pytest.mark.parametrize(
    ("personnummer", "what"),
    [
        ("19121212-1213", "check digit"),
        ("191212121", "10 or 12 digits"),
        ("19121312-1212", "not a date of birth"),
        ("abcdefghij", "10 or 12 digits"),
        ("21991212-1212", "future"),
    ],
)
async def test_bad_personnummer_is_422_saying_what_is_wrong(http, as_, personnummer, what):
    response = await http.post(
        "/customers",
        json={"personnummer": personnummer, "first_name": "A", "last_name": "B"},
        headers=as_("caseworker"),
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_personnummer"
    assert what in response.json()["error"]["message"]


async def test_same_personnummer_twice_is_409_whatever_the_format(http, world):
    pnr = world["customer"]["personnummer"]
    response = await http.post(
        "/customers",
        json={"personnummer": f"{pnr[2:8]}-{pnr[8:]}", "first_name": "A", "last_name": "B"},
        headers=world["caseworker"],
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "customer_exists"


async def test_refused_changes(http, world):
    """Each wrong step answers with its status and a code naming what is wrong."""
    cw, provider, order = world["caseworker"], world["provider"], world["order"]
    today = world["today"]
    execution = f"/executions/{order['execution_id']}/end"
    cases = [
        # (method, path, body, headers, status, code)
        (
            "post",
            "/orders",
            {
                "customer_id": world["customer"]["id"],
                "unit_id": "nowhere",
                "decision_date": str(today),
                "text": "x",
            },
            cw,
            422,
            "unknown_unit",
        ),
        (
            "post",
            "/orders",
            {
                "customer_id": str(uuid.uuid4()),
                "unit_id": world["unit"],
                "decision_date": str(today),
                "text": "x",
            },
            cw,
            422,
            "unknown_customer",
        ),
        (
            "post",
            "/orders",
            {
                "customer_id": world["customer"]["id"],
                "unit_id": world["unit"],
                "decision_date": str(today),
                "planned_start_date": str(today - timedelta(days=1)),
                "text": "x",
            },
            cw,
            422,
            "start_before_decision",
        ),
        (
            "post",
            "/orders",
            {
                "customer_id": world["customer"]["id"],
                "unit_id": world["unit"],
                "decision_date": str(today),
                "text": "x",
            },
            provider,
            403,
            "forbidden",
        ),
        (
            "post",
            f"/orders/{order['id']}/confirm",
            {"start_date": str(today)},
            provider,
            409,
            "order_confirmed",
        ),
        (
            "post",
            f"/orders/{order['id']}/confirm",
            {"start_date": str(today)},
            cw,
            403,
            "forbidden",
        ),
        ("post", f"/orders/{order['id']}/withdraw", {"reason": "x"}, cw, 409, "order_confirmed"),
        (
            "post",
            execution,
            {"end_date": str(today), "reason": "other", "confirmed": True},
            provider,
            422,
            "end_before_start",
        ),
        (
            "post",
            execution,
            {"end_date": str(today + timedelta(days=30)), "reason": "other", "confirmed": False},
            provider,
            422,
            "end_not_confirmed",
        ),
        ("get", f"/orders/{uuid.uuid4()}", None, provider, 404, "order_not_found"),
        ("post", "/units", {"id": world["unit"], "name": "x"}, world["admin"], 409, "unit_exists"),
        ("post", "/units", {"id": "x-unit", "name": "x"}, cw, 403, "forbidden"),
    ]
    for method, path, body, headers, status, code in cases:
        response = await http.request(method, path, json=body, headers=headers)
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), (
            path,
            body,
            response.text,
        )


async def test_malformed_requests_keep_fastapis_422(http, world):
    provider, cw, order = world["provider"], world["caseworker"], world["order"]
    cases = [
        ("get", "/orders", {"status": "nonsense"}, None, provider),
        ("get", "/orders/not-a-uuid", None, None, provider),
        ("post", f"/orders/{order['id']}/confirm", None, {"start_date": "tomorrow"}, provider),
        ("post", f"/orders/{order['id']}/confirm", None, {}, provider),
        (
            "post",
            f"/executions/{order['execution_id']}/end",
            None,
            {"end_date": str(world["today"]), "reason": "bored", "confirmed": True},
            provider,
        ),
        (
            "post",
            "/customers",
            None,
            {"personnummer": "191212121212", "first_name": "A", "last_name": "B", "shoe_size": 44},
            cw,
        ),
        (
            "post",
            "/orders",
            None,
            {
                "customer_id": world["customer"]["id"],
                "unit_id": "x",
                "service": "hemtjanst",
                "decision_date": "2026-01-01",
                "text": "x",
            },
            cw,
        ),
    ]
    for method, path, params, body, headers in cases:
        response = await http.request(method, path, params=params, json=body, headers=headers)
        assert response.status_code == 422, (path, body, response.text)
        assert "detail" in response.json()


async def test_ending_twice_is_409_and_the_end_stands(http, world):
    provider, order = world["provider"], world["order"]
    end = {
        "end_date": str(world["today"] + timedelta(days=15)),
        "reason": "moved_home",
        "confirmed": True,
    }
    path = f"/executions/{order['execution_id']}/end"
    assert (await http.post(path, json=end, headers=provider)).status_code == 200
    again = await http.post(
        path, json={**end, "end_date": str(world["today"] + timedelta(days=40))}, headers=provider
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "execution_ended"
    execution = await http.get(f"/executions/{order['execution_id']}", headers=provider)
    assert execution.json()["end_date"] == end["end_date"]
