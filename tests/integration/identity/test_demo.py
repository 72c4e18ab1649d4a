"""`make up`'s demo people get their memberships in the identity service (lifecare/demo.py)."""

from __future__ import annotations

import asyncio

from lifecare import demo


async def test_the_demo_people_can_sign_in_and_seeding_twice_adds_nothing(
    identity, identity_url, web_ui, as_
):
    admin = as_("admin").get("Authorization", "").removeprefix("Bearer ")
    first = await asyncio.to_thread(demo.seed_identity, identity_url, admin=admin)
    again = await asyncio.to_thread(demo.seed_identity, identity_url, admin=admin)
    assert (first, again) == (len(demo.STAFF), 0)

    anna = await identity.get("/people/anna/memberships", headers=web_ui)
    assert sorted(m["unit"] for m in anna.json()["memberships"]) == ["ekbacken", "solbacken"]
    token = await identity.post(
        "/tokens", json={"sub": "ulla", "role": "unit_admin", "unit": "solbacken"}, headers=web_ui
    )
    assert token.status_code == 200, token.text
