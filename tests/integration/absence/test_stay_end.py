"""When a stay ends, its absences end with it (issue 14, point 8): those that run past the
stay's last day (or are open) end on it, those that begin after it are removed, each with
its event and audit row, so no absence is left with a last day before its first. And the
race of the end against a registration (point 4) leaves the same state, whichever comes
first."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta

import pytest

from services.common.dates import today_in_stockholm
from tests.integration.absence.helpers import register
from tests.integration.conftest import wait_for
from tests.integration.helpers import new_customer, new_order, new_unit


async def _end(http, stay: dict, end_date: date):
    return await http.post(
        f"/executions/{stay['order']['execution_id']}/end",
        json={"end_date": str(end_date), "reason": "moved_other_housing", "confirmed": True},
        headers=stay["provider"],
    )


async def _absences(absence_http, stay: dict) -> dict[str, dict]:
    listed = await absence_http.get(
        "/absences", params={"customer_id": stay["customer"]["id"]}, headers=stay["provider"]
    )
    assert listed.status_code == 200, listed.text
    return {a["id"]: a for a in listed.json()}


CASES = {
    # name: (first, last) in days from today; the stay ends 5 days ago
    "closed": {
        "before": (-30, -25),
        "across": (-10, -3),
        "after": (-1, 1),
        "planned": (5, None),
    },
    "open": {"before": (-30, -25), "across": (-10, None)},
}


@pytest.mark.parametrize("case", list(CASES))
async def test_the_absences_after_a_stays_end_are_ended_or_removed_with_their_events(
    http, absence_http, stay, pool, events, case: str
):
    today = stay["today"]
    end = today - timedelta(days=5)
    made = {}
    for name, (first, last) in CASES[case].items():
        response = await register(
            absence_http,
            stay["provider"],
            stay["customer"]["id"],
            today + timedelta(days=first),
            None if last is None else today + timedelta(days=last),
        )
        assert response.status_code == 201, response.text
        made[name] = response.json()
    removed = [made[n]["id"] for n in ("after", "planned") if n in made]

    ended = await _end(http, stay, end)
    assert ended.status_code == 200, ended.text

    async def trimmed():
        now = await _absences(absence_http, stay)
        done = now[made["across"]["id"]]["to_date"] == str(end)
        return now if done and not set(removed) & set(now) else None

    now = await wait_for(trimmed)
    assert set(now) == {made["before"]["id"], made["across"]["id"]}
    assert now[made["before"]["id"]]["to_date"] == str(today - timedelta(days=25))
    assert now[made["across"]["id"]]["last_day"] == str(end)  # ended on the stay's last day
    for absence in now.values():
        assert absence["from_date"] <= absence["last_day"] <= str(end)
    for absence_id in removed:
        gone = await absence_http.get(f"/absences/{absence_id}", headers=stay["provider"])
        assert gone.status_code == 404

    wanted = [("absence.updated", made["across"]["id"])]
    wanted += [("absence.removed", absence_id) for absence_id in removed]

    async def published():
        mine = {
            (e["type"], e["data"]["absence_id"]): e["data"]
            for e in events
            if e["type"] in ("absence.updated", "absence.removed")
        }
        return mine if all(k in mine for k in wanted) else None

    seen = await wait_for(published)
    assert seen[("absence.updated", made["across"]["id"])]["to_date"] == str(end)
    assert ("absence.updated", made["before"]["id"]) not in seen  # untouched, not published
    trail = await pool.fetch(
        "SELECT action, request_id FROM absence.audit "
        "WHERE customer_id = $1 AND actor_sub = 'execution.ended'",
        uuid.UUID(stay["customer"]["id"]),
    )
    assert sorted(r["action"] for r in trail) == sorted(
        ["absence.update"] + ["absence.remove"] * len(removed)
    )
    assert all(r["request_id"].startswith("event:") for r in trail)


async def _new_stay(http, as_) -> dict:
    admin, caseworker = as_("admin"), as_("caseworker")
    unit = await new_unit(http, admin)
    provider = as_("provider", unit=unit, sub="anna")
    customer = await new_customer(http, caseworker)
    today = today_in_stockholm()
    order = await new_order(http, caseworker, customer, unit, today - timedelta(days=40))
    confirmed = await http.post(
        f"/orders/{order['id']}/confirm",
        json={"start_date": str(today - timedelta(days=30))},
        headers=provider,
    )
    assert confirmed.status_code == 200, confirmed.text
    return {"provider": provider, "customer": customer, "order": confirmed.json(), "today": today}


@pytest.mark.parametrize("timing", ["at_once", "right_after_the_end"])
async def test_an_end_against_a_registration_after_it_ends_in_the_same_state(
    http, absence_http, as_, timing: str
):
    seen = []
    for _ in range(5):
        stay = await _new_stay(http, as_)
        today = stay["today"]
        # known to the absence service before the race (a registration would wait for it)
        before = await register(
            absence_http,
            stay["provider"],
            stay["customer"]["id"],
            today - timedelta(days=20),
            today - timedelta(days=19),
        )
        assert before.status_code == 201, before.text
        end = today - timedelta(days=2)
        late = register(absence_http, stay["provider"], stay["customer"]["id"], today, None)

        if timing == "at_once":
            ended, registered = await asyncio.gather(_end(http, stay, end), late)
        else:  # while execution.ended is on its way to the absence service
            ended = await _end(http, stay, end)
            registered = await late
        seen.append((ended.status_code, registered.status_code))

        assert ended.status_code == 200, ended.text
        if registered.status_code != 201:  # the stay's end came first: as a later try finds
            assert registered.status_code == 422, registered.text
            assert registered.json()["error"]["code"] == "outside_stay"
        await _settled(absence_http, stay, registered.json().get("id"))
        now = await _absences(absence_http, stay)
        assert set(now) == {before.json()["id"]}  # one that came first was removed
        for absence in now.values():
            assert absence["from_date"] <= absence["last_day"] <= str(end)
    print(f"end against registration, {timing}, 5 tries (end, register): {sorted(set(seen))}")


async def _settled(absence_http, stay: dict, absence_id: str | None) -> None:
    """Until the absence service has applied the stay's end to a registration it took."""

    async def gone():
        return absence_id not in await _absences(absence_http, stay)

    await wait_for(gone)
