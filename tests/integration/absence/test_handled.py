"""The fee administrators' indication of absence (manual 5.2, 5.3; issue 17 point 2): a
registered, ended, changed or removed absence is theirs to handle until one of them marks
it handled, and a later change makes it theirs again."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from tests.integration.absence.helpers import register
from tests.integration.conftest import wait_for


async def _unhandled(absence_http, fee_admin, customer_id: str) -> list[dict]:
    listed = await absence_http.get(
        "/absences", params={"unhandled": "true", "customer_id": customer_id}, headers=fee_admin
    )
    assert listed.status_code == 200, listed.text
    assert listed.headers["X-Total-Count"] == str(len(listed.json()))
    return listed.json()


async def test_each_change_is_to_handle_until_a_fee_administrator_marks_it(
    absence_http, stay, as_, pool
):
    provider, customer, today = stay["provider"], stay["customer"], stay["today"]
    fee_admin = as_("fee_admin", sub="frida")
    registered = await register(absence_http, provider, customer["id"], today - timedelta(days=10))
    assert registered.status_code == 201, registered.text
    absence = registered.json()
    assert absence["last_change"] == "registered" and absence["handled"] is False

    # registered: on the fee administrators' list, with what changed and when
    [listed] = await _unhandled(absence_http, fee_admin, customer["id"])
    assert listed["id"] == absence["id"]
    assert listed["last_change"] == "registered"
    assert listed["changed_at"] == absence["registered_at"]

    marked = await absence_http.post(f"/absences/{absence['id']}/handled", headers=fee_admin)
    assert marked.status_code == 200, marked.text
    assert marked.json()["handled"] is True and marked.json()["handled_by"] == "frida"
    assert await _unhandled(absence_http, fee_admin, customer["id"]) == []
    twice = await absence_http.post(f"/absences/{absence['id']}/handled", headers=fee_admin)
    assert twice.status_code == 409
    assert twice.json()["error"]["code"] == "absence_handled"

    # the provider ends it: to handle again, saying it ended and what it was before
    ended = await absence_http.patch(
        f"/absences/{absence['id']}",
        json={"to_date": str(today - timedelta(days=2))},
        headers=provider,
    )
    assert ended.status_code == 200, ended.text
    [listed] = await _unhandled(absence_http, fee_admin, customer["id"])
    assert listed["last_change"] == "ended"
    assert listed["to_date"] == str(today - timedelta(days=2))
    assert listed["previous_to_date"] is None
    assert listed["changed_at"] == ended.json()["updated_at"]
    assert listed["handled"] is False

    # a mark for the revision seen before the change is refused: the change is not unseen
    stale = await absence_http.post(
        f"/absences/{absence['id']}/handled",
        json={"revision": absence["revision"]},
        headers=fee_admin,
    )
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "absence_changed_since"
    marked = await absence_http.post(
        f"/absences/{absence['id']}/handled",
        json={"revision": listed["revision"]},
        headers=fee_admin,
    )
    assert marked.status_code == 200, marked.text

    # a change of the end, then a removal: each on the list again
    changed = await absence_http.patch(
        f"/absences/{absence['id']}",
        json={"to_date": str(today - timedelta(days=4))},
        headers=provider,
    )
    assert changed.status_code == 200, changed.text
    [listed] = await _unhandled(absence_http, fee_admin, customer["id"])
    assert listed["last_change"] == "changed"
    assert listed["previous_to_date"] == str(today - timedelta(days=2))
    removed = await absence_http.delete(f"/absences/{absence['id']}", headers=provider)
    assert removed.status_code == 204
    [listed] = await _unhandled(absence_http, fee_admin, customer["id"])
    assert listed["last_change"] == "removed" and listed["removed_at"] is not None
    marked = await absence_http.post(f"/absences/{absence['id']}/handled", headers=fee_admin)
    assert marked.status_code == 200, marked.text
    assert await _unhandled(absence_http, fee_admin, customer["id"]) == []

    # every mark is in the audit log, by the fee administrator who made it
    trail = await pool.fetch(
        "SELECT actor_sub, actor_role, action FROM absence.audit "
        "WHERE resource = $1 AND action = 'absence.handled' ORDER BY id",
        f"absence:{absence['id']}",
    )
    assert [(r["actor_sub"], r["actor_role"]) for r in trail] == [("frida", "fee_admin")] * 3


async def test_a_provider_can_neither_mark_nor_list_what_is_to_handle(absence_http, stay):
    provider, customer, today = stay["provider"], stay["customer"], stay["today"]
    absence = (await register(absence_http, provider, customer["id"], today)).json()

    marked = await absence_http.post(f"/absences/{absence['id']}/handled", headers=provider)
    assert marked.status_code == 403
    listed = await absence_http.get("/absences", params={"unhandled": "true"}, headers=provider)
    assert listed.status_code == 403
    read = await absence_http.get(f"/absences/{absence['id']}", headers=provider)
    assert read.json()["handled"] is False  # nothing was marked


async def test_marking_an_unknown_absence_is_a_404_and_bad_input_a_422(absence_http, as_):
    fee_admin = as_("fee_admin", sub="frida")
    unknown = await absence_http.post(f"/absences/{uuid.uuid4()}/handled", headers=fee_admin)
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "absence_not_found"
    not_an_id = await absence_http.post("/absences/nej/handled", headers=fee_admin)
    assert not_an_id.status_code == 422
    bad_revision = await absence_http.post(
        f"/absences/{uuid.uuid4()}/handled", json={"revision": "två"}, headers=fee_admin
    )
    assert bad_revision.status_code == 422
    mixed = await absence_http.get(
        "/absences", params={"unhandled": "true", "current": "true"}, headers=fee_admin
    )
    assert mixed.status_code == 422
    assert mixed.json()["error"]["code"] == "unhandled_with_filter"
    too_many = await absence_http.get(
        "/absences", params={"unhandled": "true", "limit": "100000"}, headers=fee_admin
    )
    assert too_many.status_code == 422
    too_far = await absence_http.get(
        "/absences", params={"unhandled": "true", "offset": str(10**30)}, headers=fee_admin
    )
    assert too_far.status_code == 422


async def test_the_list_pages_and_counts_all_that_is_to_handle(absence_http, stay, as_):
    provider, customer, today = stay["provider"], stay["customer"], stay["today"]
    fee_admin = as_("fee_admin", sub="frida")
    for first in (30, 20, 10):
        day = today - timedelta(days=first)
        made = await register(absence_http, provider, customer["id"], day, day + timedelta(days=2))
        assert made.status_code == 201, made.text
    page = await absence_http.get(
        "/absences",
        params={"unhandled": "true", "customer_id": customer["id"], "limit": 2, "offset": 1},
        headers=fee_admin,
    )
    assert page.status_code == 200, page.text
    assert page.headers["X-Total-Count"] == "3"
    assert [a["from_date"] for a in page.json()] == [
        str(today - timedelta(days=20)),
        str(today - timedelta(days=10)),
    ]


async def test_the_stays_end_ending_an_absence_makes_it_to_handle_again(
    absence_http, http, stay, as_
):
    provider, customer, today = stay["provider"], stay["customer"], stay["today"]
    fee_admin = as_("fee_admin", sub="frida")
    absence = (
        await register(absence_http, provider, customer["id"], today - timedelta(days=5))
    ).json()
    marked = await absence_http.post(f"/absences/{absence['id']}/handled", headers=fee_admin)
    assert marked.status_code == 200, marked.text

    end = today - timedelta(days=1)
    ended = await http.post(
        f"/executions/{stay['order']['execution_id']}/end",
        json={"end_date": str(end), "reason": "moved_other_housing", "confirmed": True},
        headers=provider,
    )
    assert ended.status_code == 200, ended.text

    async def to_handle() -> list[dict]:
        return await _unhandled(absence_http, fee_admin, customer["id"])

    [listed] = await wait_for(to_handle)
    assert listed["id"] == absence["id"] and listed["last_change"] == "ended"
    assert listed["to_date"] == str(end) and listed["previous_to_date"] is None
    assert listed["updated_by"] == "execution.ended"


async def test_a_change_racing_a_mark_is_never_marked_handled_unseen(absence_http, stay, as_):
    provider, customer, today = stay["provider"], stay["customer"], stay["today"]
    fee_admin = as_("fee_admin", sub="frida")
    for n in range(5):
        first = today - timedelta(days=50 - 3 * n)
        absence = (
            await register(absence_http, provider, customer["id"], first, first + timedelta(days=1))
        ).json()
        mark, change = await asyncio.gather(
            absence_http.post(
                f"/absences/{absence['id']}/handled",
                json={"revision": absence["revision"]},
                headers=fee_admin,
            ),
            absence_http.patch(
                f"/absences/{absence['id']}", json={"to_date": str(first)}, headers=provider
            ),
        )
        assert change.status_code == 200, change.text
        # the mark came first (then the change is to handle) or was refused after it
        assert mark.status_code in (200, 409), mark.text
        if mark.status_code == 409:
            assert mark.json()["error"]["code"] == "absence_changed_since"
        listed = await _unhandled(absence_http, fee_admin, customer["id"])
        assert [(a["id"], a["last_change"]) for a in listed] == [(absence["id"], "changed")]
        done = await absence_http.post(f"/absences/{absence['id']}/handled", headers=fee_admin)
        assert done.status_code == 200, done.text
