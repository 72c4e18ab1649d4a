"""Stored values are clean: what a client sees when it sends a name of spaces, a bidi
override, a birth year before 1890, a date with a time, or "yes" for true."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.common.dates import today_in_stockholm
from services.orders.domain import luhn_check_digit
from tests.integration.helpers import new_customer, new_order, new_unit
from tests.integration.helpers import test_personnummer as personnummer


def _detail(response) -> tuple[list, str]:
    [detail] = response.json()["detail"]
    return detail["loc"], detail["msg"]


async def test_a_name_is_trimmed_before_it_is_stored_and_one_of_spaces_is_refused(http, as_):
    caseworker = as_("caseworker")
    customer = await new_customer(http, caseworker, first_name="  Greta ", last_name=" Test ")
    assert (customer["first_name"], customer["last_name"]) == ("Greta", "Test")
    stored = await http.get(f"/customers/{customer['id']}", headers=caseworker)
    assert stored.json()["first_name"] == "Greta"

    blank = await http.post(
        "/customers",
        json={"personnummer": personnummer(), "first_name": "   ", "last_name": "Berg"},
        headers=caseworker,
    )
    assert blank.status_code == 422
    assert _detail(blank) == (
        ["body", "first_name"],
        "String should have at least 1 character",
    )


@pytest.mark.parametrize("char", ["\u202e", "\u2067", "\x07", "\n"])
async def test_a_name_with_a_control_character_or_bidi_override_is_refused(http, as_, char):
    response = await http.post(
        "/customers",
        json={"personnummer": personnummer(), "first_name": f"Gr{char}eta", "last_name": "B"},
        headers=as_("caseworker"),
    )
    assert response.status_code == 422
    loc, msg = _detail(response)
    assert loc == ["body", "first_name"]
    assert f"U+{ord(char):04X} at position 3" in msg


async def test_a_birth_year_before_1890_is_refused(http, as_):
    serial = "998"
    number = f"18891231{serial}{luhn_check_digit('891231' + serial)}"
    response = await http.post(
        "/customers",
        json={"personnummer": number, "first_name": "Gammal", "last_name": "Test"},
        headers=as_("caseworker"),
    )
    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "invalid_personnummer",
        "message": "a date of birth before 1890 is not a living person's",
    }


async def test_an_order_text_with_a_bidi_override_and_a_date_with_a_time_are_refused(http, as_):
    admin, caseworker = as_("admin"), as_("caseworker")
    unit = await new_unit(http, admin)
    customer = await new_customer(http, caseworker)
    today = today_in_stockholm()
    base = {"customer_id": customer["id"], "unit_id": unit, "decision_date": str(today)}
    for change, field, says in [
        ({"text": "Beviljas\u202d boende"}, "text", "U+202D at position 9"),
        ({"text": "ok", "decision_date": f"{today}T10:00"}, "decision_date", "without a time"),
        ({"text": "ok", "decision_date": f"{today}+01:00"}, "decision_date", "without a time"),
        ({"text": "ok", "decision_date": f"{today}T00:00:00"}, "decision_date", "without a time"),
    ]:
        response = await http.post("/orders", json={**base, **change}, headers=caseworker)
        assert response.status_code == 422, change
        loc, msg = _detail(response)
        assert loc == ["body", field] and says in msg, (loc, msg)


async def test_an_end_is_confirmed_by_true_only(http, as_):
    admin, caseworker = as_("admin"), as_("caseworker")
    unit = await new_unit(http, admin)
    provider = as_("provider", unit=unit)
    today = today_in_stockholm()
    order = await new_order(http, caseworker, await new_customer(http, caseworker), unit, today)
    confirmed = await http.post(
        f"/orders/{order['id']}/confirm", json={"start_date": str(today)}, headers=provider
    )
    assert confirmed.status_code == 200, confirmed.text
    end = f"/executions/{confirmed.json()['execution_id']}/end"
    body = {"end_date": str(today + timedelta(days=5)), "reason": "moved_home"}
    for sure in ["yes", "true", 1]:
        response = await http.post(end, json={**body, "confirmed": sure}, headers=provider)
        assert response.status_code == 422, sure
        assert _detail(response) == (["body", "confirmed"], "Input should be a valid boolean")
    ended = await http.post(end, json={**body, "confirmed": True}, headers=provider)
    assert ended.status_code == 200, ended.text


async def test_the_order_print_view_carries_the_security_headers(http, as_):
    admin, caseworker = as_("admin"), as_("caseworker")
    unit = await new_unit(http, admin)
    customer = await new_customer(http, caseworker)
    order = await new_order(http, caseworker, customer, unit, today_in_stockholm())
    printed = await http.get(f"/orders/{order['id']}/print", headers=caseworker)
    assert printed.status_code == 200, printed.text
    policy = printed.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert printed.headers["X-Content-Type-Options"] == "nosniff"
    assert printed.headers["Referrer-Policy"] == "no-referrer"


async def test_an_absence_date_with_a_time_is_refused_not_cut(absence_http, as_):
    response = await absence_http.post(
        "/absences",
        json={
            "customer_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
            "reason": "hospital",
            "description": "Inlagd",
            "from_date": "2026-01-01T10:00",
        },
        headers=as_("provider", unit="solbacken"),
    )
    assert response.status_code == 422
    assert _detail(response) == (
        ["body", "from_date"],
        "Value error, a date as YYYY-MM-DD, without a time or an offset",
    )
