"""Access ends when the reason for it ends (issue 14, point 7): a unit sees a customer while
it has an unconfirmed, confirmed or ongoing order for them, and for 90 days (the setting
customer_visible_after_end) after the execution's end date; not after a withdrawal."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.common.dates import today_in_stockholm
from tests.integration.helpers import new_customer, new_order, new_unit


@pytest.fixture
async def placed(http, as_) -> dict:
    """A customer with an unconfirmed order at a new unit, and that unit's provider."""
    admin, caseworker = as_("admin"), as_("caseworker")
    unit = await new_unit(http, admin)
    customer = await new_customer(http, caseworker)
    today = today_in_stockholm()
    order = await new_order(http, caseworker, customer, unit, today - timedelta(days=300))
    return {
        "caseworker": caseworker,
        "provider": as_("provider", unit=unit),
        "customer": customer,
        "order": order,
        "today": today,
    }


async def _sees(http, provider: dict, customer: dict) -> bool:
    """What the provider's screens show of the customer: the page, the search, the stays."""
    page = await http.get(f"/customers/{customer['id']}", headers=provider)
    stays = await http.get(f"/customers/{customer['id']}/executions", headers=provider)
    found = await http.get("/customers", params={"q": customer["personnummer"]}, headers=provider)
    by_id = await http.get("/customers", params={"id": customer["id"]}, headers=provider)
    assert page.status_code in (200, 404) and stays.status_code == page.status_code
    listed = [c["id"] for c in found.json()] + [c["id"] for c in by_id.json()]
    assert listed in ([], [customer["id"]] * 2)  # the page and the lists agree
    if page.status_code == 200:
        assert page.json()["personnummer"] == customer["personnummer"] and listed
        return True
    assert page.json()["error"]["code"] == "customer_not_found" and not listed
    return False


async def test_a_unit_sees_the_customer_of_an_unconfirmed_order_but_not_after_its_withdrawal(
    http, placed
):
    assert await _sees(http, placed["provider"], placed["customer"])

    withdrawn = await http.post(
        f"/orders/{placed['order']['id']}/withdraw",
        json={"reason": "Kunden tackade nej"},
        headers=placed["caseworker"],
    )
    assert withdrawn.status_code == 200, withdrawn.text

    assert not await _sees(http, placed["provider"], placed["customer"])
    # the caseworker still finds the customer
    page = await http.get(f"/customers/{placed['customer']['id']}", headers=placed["caseworker"])
    assert page.status_code == 200


async def test_a_unit_neither_lists_nor_reads_a_withdrawn_order_nor_its_customer(http, placed):
    provider, customer = placed["provider"], placed["customer"]
    name = f"{customer['first_name']} {customer['last_name']}"

    async def listed(**params: str) -> list[str]:
        response = await http.get("/orders", params=params, headers=provider)
        assert response.status_code == 200, response.text
        assert int(response.headers["x-total-count"]) == len(response.json())
        return [o["customer_name"] for o in response.json()]

    assert await listed() == [name]
    withdrawn = await http.post(
        f"/orders/{placed['order']['id']}/withdraw",
        json={"reason": "Kunden tackade nej"},
        headers=placed["caseworker"],
    )
    assert withdrawn.status_code == 200, withdrawn.text

    for params in ({}, {"status": "withdrawn"}, {"q": customer["personnummer"]}, {"offset": "1"}):
        assert await listed(**params) == [], params
    # nor its page or printout; the caseworker's are there
    order_id = placed["order"]["id"]
    for path in (f"/orders/{order_id}", f"/orders/{order_id}/print"):
        hidden = await http.get(path, headers=provider)
        assert hidden.status_code == 404 and name not in hidden.text, path
        assert hidden.json()["error"]["code"] == "order_not_found"
        assert (await http.get(path, headers=placed["caseworker"])).status_code == 200
    # the caseworker still finds the withdrawn order, by status and unit
    theirs = await http.get(
        "/orders",
        params={"status": "withdrawn", "unit_id": placed["order"]["unit_id"]},
        headers=placed["caseworker"],
    )
    assert [o["customer_name"] for o in theirs.json()] == [name]


async def _confirm_and_end(http, placed: dict, *, ended_days_ago: int) -> None:
    provider, today = placed["provider"], placed["today"]
    confirmed = await http.post(
        f"/orders/{placed['order']['id']}/confirm",
        json={"start_date": str(today - timedelta(days=250))},
        headers=provider,
    )
    assert confirmed.status_code == 200, confirmed.text
    assert await _sees(http, provider, placed["customer"])  # ongoing
    ended = await http.post(
        f"/executions/{confirmed.json()['execution_id']}/end",
        json={
            "end_date": str(today - timedelta(days=ended_days_ago)),
            "reason": "moved_other_housing",
            "confirmed": True,
        },
        headers=provider,
    )
    assert ended.status_code == 200, ended.text


@pytest.mark.parametrize("ended_days_ago", [0, 30, 90])
async def test_a_unit_sees_the_customer_for_90_days_after_the_end_date(
    http, placed, ended_days_ago: int
):
    await _confirm_and_end(http, placed, ended_days_ago=ended_days_ago)
    assert await _sees(http, placed["provider"], placed["customer"])


async def test_a_unit_no_longer_sees_the_customer_91_days_after_the_end_date(http, placed):
    await _confirm_and_end(http, placed, ended_days_ago=91)
    assert not await _sees(http, placed["provider"], placed["customer"])


async def test_another_open_order_at_the_unit_keeps_the_customer_visible(http, as_, placed):
    await _confirm_and_end(http, placed, ended_days_ago=120)
    again = await new_order(
        http,
        placed["caseworker"],
        placed["customer"],
        placed["order"]["unit_id"],
        placed["today"],
    )
    assert again["status"] == "unconfirmed"
    assert await _sees(http, placed["provider"], placed["customer"])
