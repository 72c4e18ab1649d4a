"""A customer's absences and the fee administrators' unhandled changes come a page at a
time behind a `Link` header: a walk shows each absence once, also when absences are
registered between two pages."""

from __future__ import annotations

from datetime import timedelta

from tests.integration.absence.helpers import register
from tests.integration.paging import cursor_of, ids_of, tampered, walk


async def test_a_walk_over_a_customers_absences_shows_each_once_while_more_come(
    absence_http, stay, as_
):
    provider, customer, start = stay["provider"], stay["customer"], stay["start"]

    async def absent(day: int) -> str:
        first = start + timedelta(days=day)
        registered = await register(absence_http, provider, customer["id"], first, first)
        assert registered.status_code == 201, registered.text
        return registered.json()["id"]

    made = [await absent(day) for day in range(10, 24, 2)]  # seven one-day absences
    added: list[str] = []

    async def more(page: int) -> None:
        # one before the first page shown, one after every absence listed so far
        added.extend([await absent(page * 2 - 1), await absent(30 + page * 2)])

    pages = await walk(
        absence_http,
        "/absences",
        headers=provider,
        params={"customer_id": customer["id"], "limit": 3},
        between=more,
    )
    assert ids_of(pages) == made + added[1::2]  # by first day, each once
    assert [len(page) for page in pages][:2] == [3, 3]

    # the fee administrators' list of unhandled changes: oldest change first, each once
    fee_admin = as_("fee_admin")
    unhandled = await walk(
        absence_http,
        "/absences",
        headers=fee_admin,
        params={"unhandled": "true", "customer_id": customer["id"], "limit": 4},
    )
    registered_order = made + added  # the order of their registration
    assert ids_of(unhandled) == registered_order
    first = await absence_http.get(
        "/absences",
        params={"unhandled": "true", "customer_id": customer["id"], "limit": 4},
        headers=fee_admin,
    )
    assert first.headers["X-Total-Count"] == str(len(registered_order))
    later = await absence_http.get(first.links["next"]["url"], headers=fee_admin)
    assert later.headers["X-Total-Count"] == str(len(registered_order))


async def test_absence_lists_refuse_an_oversized_page_and_a_foreign_cursor(absence_http, stay, as_):
    provider, customer, start = stay["provider"], stay["customer"], stay["start"]
    for day in (1, 3):
        first = start + timedelta(days=day)
        assert (await register(absence_http, provider, customer["id"], first, first)).is_success
    refused = await absence_http.get("/absences", params={"limit": 501}, headers=provider)
    assert refused.status_code == 422
    [problem] = refused.json()["detail"]
    assert problem["loc"] == ["query", "limit"] and "500" in problem["msg"]

    page = await absence_http.get(
        "/absences", params={"customer_id": customer["id"], "limit": 1}, headers=provider
    )
    cursor = cursor_of(page)
    fee_admin = as_("fee_admin")
    for headers, params in (
        (provider, {"customer_id": customer["id"], "cursor": tampered(cursor)}),
        # the list's cursor given to the unhandled changes
        (fee_admin, {"customer_id": customer["id"], "unhandled": "true", "cursor": cursor}),
    ):
        answer = await absence_http.get("/absences", params=params, headers=headers)
        assert answer.status_code == 400, params
        assert answer.json()["error"]["code"] == "cursor_invalid"
