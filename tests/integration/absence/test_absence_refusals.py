"""Every bad input of the absence contract gets its 4xx; another unit's customer is a 404."""

from __future__ import annotations

import uuid
from datetime import timedelta

from tests.integration.absence.helpers import register
from tests.integration.helpers import new_unit


def _error(response, status: int) -> str:
    assert response.status_code == status, response.text
    return response.json()["error"]["code"]


async def test_another_units_provider_gets_404_and_sees_nothing(absence_http, http, as_, stay):
    customer, today = stay["customer"], stay["today"]
    absence = (
        await register(absence_http, stay["provider"], customer["id"], today - timedelta(days=2))
    ).json()
    stranger = as_("provider", unit=await new_unit(http, as_("admin")))

    refused = await register(absence_http, stranger, customer["id"], today - timedelta(days=1))
    assert _error(refused, 404) == "customer_not_found"
    assert "try again" in refused.json()["error"]["message"]  # it may just have been confirmed
    path = f"/absences/{absence['id']}"
    assert _error(await absence_http.get(path, headers=stranger), 404) == "absence_not_found"
    patched = await absence_http.patch(path, json={"to_date": str(today)}, headers=stranger)
    assert _error(patched, 404) == "absence_not_found"
    assert _error(await absence_http.delete(path, headers=stranger), 404) == "absence_not_found"
    for params in ({"current": "true"}, {"customer_id": customer["id"]}, {}):
        listed = await absence_http.get("/absences", params=params, headers=stranger)
        assert listed.status_code == 200 and listed.json() == []
    # and the absence is as it was
    kept = await absence_http.get(path, headers=stay["provider"])
    assert kept.status_code == 200 and kept.json()["to_date"] is None


async def test_absence_outside_the_stay_is_422_and_names_the_stay(absence_http, stay):
    before = stay["start"] - timedelta(days=1)
    refused = await register(absence_http, stay["provider"], stay["customer"]["id"], before)
    assert _error(refused, 422) == "outside_stay"
    assert str(stay["start"]) in refused.json()["error"]["message"]


async def test_overlapping_absence_is_409_on_register_and_on_change(absence_http, stay):
    provider, customer, today = stay["provider"], stay["customer"]["id"], stay["today"]
    first = await register(absence_http, provider, customer, today - timedelta(days=10), today)
    assert first.status_code == 201
    overlapping = await register(absence_http, provider, customer, today, reason="vacation")
    assert _error(overlapping, 409) == "absence_overlaps"
    assert first.json()["id"] in overlapping.json()["error"]["message"]

    earlier = await register(
        absence_http, provider, customer, today - timedelta(days=20), today - timedelta(days=15)
    )
    assert earlier.status_code == 201
    stretched = await absence_http.patch(
        f"/absences/{earlier.json()['id']}",
        json={"to_date": str(today - timedelta(days=9))},
        headers=provider,
    )
    assert _error(stretched, 409) == "absence_overlaps"
    reopened = await absence_http.patch(
        f"/absences/{earlier.json()['id']}", json={"to_date": None}, headers=provider
    )
    assert _error(reopened, 409) == "absence_overlaps"


async def test_last_day_before_the_first_is_422_on_register_and_on_change(absence_http, stay):
    provider, customer, today = stay["provider"], stay["customer"]["id"], stay["today"]
    refused = await register(absence_http, provider, customer, today, today - timedelta(days=1))
    assert _error(refused, 422) == "to_before_from"

    absence = (await register(absence_http, provider, customer, today - timedelta(days=3))).json()
    changed = await absence_http.patch(
        f"/absences/{absence['id']}",
        json={"to_date": str(today - timedelta(days=4))},
        headers=provider,
    )
    assert _error(changed, 422) == "to_before_from"


async def test_bad_bodies_and_queries_are_422(absence_http, stay):
    provider, customer, today = stay["provider"], stay["customer"]["id"], stay["today"]
    bad_reason = await register(absence_http, provider, customer, today, reason="holiday")
    assert bad_reason.status_code == 422
    for blank in ("", "   "):
        no_text = await register(absence_http, provider, customer, today, description=blank)
        assert no_text.status_code == 422, blank
    not_a_date = await absence_http.post(
        "/absences",
        json={"customer_id": customer, "reason": "other", "description": "x", "from_date": "igår"},
        headers=provider,
    )
    assert not_a_date.status_code == 422
    missing = await absence_http.patch(
        f"/absences/{uuid.uuid4()}", json={}, headers=provider
    )  # to_date must be given, as a date or null
    assert missing.status_code == 422
    period = await absence_http.get(
        "/absences",
        params={"from": str(today), "to": str(today - timedelta(days=1))},
        headers=provider,
    )
    assert _error(period, 422) == "bad_period"


async def test_only_providers_change_and_only_providers_and_fee_admins_read(
    absence_http, as_, stay
):
    customer, today = stay["customer"]["id"], stay["today"]
    absence = (await register(absence_http, stay["provider"], customer, today)).json()
    for role in ("caseworker", "fee_admin", "coordinator", "admin"):
        refused = await register(absence_http, as_(role), customer, today + timedelta(days=1))
        assert _error(refused, 403) == "forbidden", role
        patched = await absence_http.patch(
            f"/absences/{absence['id']}", json={"to_date": str(today)}, headers=as_(role)
        )
        assert _error(patched, 403) == "forbidden", role
    for role in ("caseworker", "coordinator"):
        listed = await absence_http.get("/absences", headers=as_(role))
        assert _error(listed, 403) == "forbidden", role
    assert (await absence_http.get("/absences")).status_code == 401
    unknown = await absence_http.get(f"/absences/{uuid.uuid4()}", headers=stay["provider"])
    assert _error(unknown, 404) == "absence_not_found"
