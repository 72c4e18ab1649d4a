"""Races on one customer's absences end in a 409 or the answer of the other order, never a
500 (issue 14, point 4): two overlapping registrations, and "Ändra" against removing the
same absence, each pair sent at once (asyncio.gather), many times over."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from tests.integration.absence.helpers import register

TRIES = 10


async def test_two_overlapping_registrations_at_once_store_one(absence_http, stay):
    provider, customer, today = stay["provider"], stay["customer"], stay["today"]
    seen = []
    for n in range(TRIES):
        first = today - timedelta(days=55 - 5 * n)
        both = await asyncio.gather(
            register(absence_http, provider, customer["id"], first, first + timedelta(days=2)),
            register(
                absence_http,
                provider,
                customer["id"],
                first + timedelta(days=1),
                first + timedelta(days=3),
            ),
        )
        codes = sorted(r.status_code for r in both)
        seen.append(tuple(codes))
        assert codes == [201, 409], [r.text for r in both]
        assert next(r for r in both if r.status_code == 409).json()["error"]["code"] == (
            "absence_overlaps"
        )
    listed = await absence_http.get(
        "/absences", params={"customer_id": customer["id"]}, headers=provider
    )
    assert len(listed.json()) == TRIES
    print(f"overlapping registrations, {TRIES} tries: {sorted(set(seen))}")


async def test_a_change_against_a_removal_of_the_same_absence(absence_http, stay):
    provider, customer, today = stay["provider"], stay["customer"], stay["today"]
    seen = []
    for n in range(TRIES):
        first = today - timedelta(days=55 - 5 * n)
        made = await register(absence_http, provider, customer["id"], first)
        assert made.status_code == 201, made.text
        absence = made.json()
        changed, removed = await asyncio.gather(
            absence_http.patch(
                f"/absences/{absence['id']}",
                json={"to_date": str(first + timedelta(days=2))},
                headers=provider,
            ),
            absence_http.delete(f"/absences/{absence['id']}", headers=provider),
        )
        seen.append((changed.status_code, removed.status_code))
        assert removed.status_code == 204, removed.text
        if changed.status_code != 200:  # removed first: as changing it later would find
            assert changed.status_code == 404, changed.text
            assert changed.json()["error"]["code"] == "absence_not_found"
        gone = await absence_http.get(f"/absences/{absence['id']}", headers=provider)
        assert gone.status_code == 404
    print(f"change against removal, {TRIES} tries (change, remove): {sorted(set(seen))}")
