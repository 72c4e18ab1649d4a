"""Races on one order end in a 409, not a 500 (issue 14, point 4): a confirm against a
withdrawal, two confirms, two ends, sent at once (asyncio.gather). Exactly one wins; the
other is told the state it met, and the order shows the winner's effect only."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from services.common.dates import today_in_stockholm
from tests.integration.helpers import new_customer, new_order, new_unit

TRIES = 5


async def _unconfirmed(http, as_) -> tuple[dict, dict, dict]:
    admin, caseworker = as_("admin"), as_("caseworker")
    unit = await new_unit(http, admin)
    order = await new_order(
        http, caseworker, await new_customer(http, caseworker), unit, today_in_stockholm()
    )
    return order, caseworker, as_("provider", unit=unit)


async def test_a_confirm_against_a_withdrawal_has_one_winner(http, as_):
    seen = []
    for _ in range(TRIES):
        order, caseworker, provider = await _unconfirmed(http, as_)
        confirmed, withdrawn = await asyncio.gather(
            http.post(
                f"/orders/{order['id']}/confirm",
                json={"start_date": str(today_in_stockholm() + timedelta(days=3))},
                headers=provider,
            ),
            http.post(
                f"/orders/{order['id']}/withdraw",
                json={"reason": "Kunden tackade nej"},
                headers=caseworker,
            ),
        )
        codes = (confirmed.status_code, withdrawn.status_code)
        seen.append(codes)
        assert sorted(codes) == [200, 409], (confirmed.text, withdrawn.text)
        loser = withdrawn if confirmed.status_code == 200 else confirmed
        assert loser.json()["error"]["code"] in ("order_confirmed", "order_withdrawn")
        final = (await http.get(f"/orders/{order['id']}", headers=caseworker)).json()
        assert final["status"] == ("confirmed" if confirmed.status_code == 200 else "withdrawn")
        assert (final["execution_id"] is None) == (final["status"] == "withdrawn")
    print(f"confirm against withdraw, {TRIES} tries (confirm, withdraw): {sorted(set(seen))}")


async def test_two_confirms_and_two_ends_each_have_one_effect(http, as_):
    for _ in range(TRIES):
        order, _, provider = await _unconfirmed(http, as_)
        today = today_in_stockholm()
        confirms = await asyncio.gather(
            *(
                http.post(
                    f"/orders/{order['id']}/confirm",
                    json={"start_date": str(today + timedelta(days=days))},
                    headers=provider,
                )
                for days in (0, 1)
            )
        )
        assert sorted(r.status_code for r in confirms) == [200, 409]
        won = next(r for r in confirms if r.status_code == 200).json()
        final = (await http.get(f"/orders/{order['id']}", headers=provider)).json()
        assert final["start_date"] == won["start_date"]

        ends = await asyncio.gather(
            *(
                http.post(
                    f"/executions/{won['execution_id']}/end",
                    json={
                        "end_date": str(today + timedelta(days=days)),
                        "reason": "other",
                        "confirmed": True,
                    },
                    headers=provider,
                )
                for days in (10, 11)
            )
        )
        assert sorted(r.status_code for r in ends) == [200, 409], [r.text for r in ends]
        ended = next(r for r in ends if r.status_code == 200).json()
        execution = await http.get(f"/executions/{won['execution_id']}", headers=provider)
        assert execution.json()["end_date"] == ended["end_date"]
