"""Every list of the orders service comes a page at a time behind a `Link` header: a walk
over all pages shows each row once, also when rows are added between two pages; the page
size has a bound; a cursor that was changed or belongs to other filters is refused."""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta

from services.orders.domain import today_in_stockholm
from tests.integration.helpers import new_customer, new_order, new_unit
from tests.integration.paging import cursor_of, ids_of, tampered, walk


async def test_a_walk_over_the_orders_shows_each_once_while_orders_arrive(http, as_):
    admin, caseworker = as_("admin"), as_("caseworker")
    unit = await new_unit(http, admin)
    provider = as_("provider", unit=unit)
    today = today_in_stockholm()

    async def order(days_ago: int) -> str:
        customer = await new_customer(http, caseworker)
        return (
            await new_order(http, caseworker, customer, unit, today - timedelta(days=days_ago))
        )["id"]

    before = [await order(days) for days in (9, 8, 8, 7, 6, 5, 4)]
    added: list[str] = []

    async def more(page: int) -> None:
        # one decided before the pages walked so far, one after: neither shifts a page
        added.extend([await order(10 + page), await order(1)])

    pages = await walk(
        http,
        "/orders",
        headers=provider,
        params={"status": "unconfirmed", "limit": 3},
        between=more,
    )
    seen = ids_of(pages)
    older, newer = added[0::2], added[1::2]
    # each order once, oldest decision first; one decided after the pages already shown
    # comes on a later page, one decided before them is not slipped into the walk
    assert seen == before + newer
    assert not set(older) & set(seen)
    assert [len(page) for page in pages][:2] == [3, 3]


async def test_the_first_page_says_how_many_in_all_and_offset_still_works(http, as_):
    admin, caseworker = as_("admin"), as_("caseworker")
    unit = await new_unit(http, admin)
    provider = as_("provider", unit=unit)
    today = today_in_stockholm()
    for days in (3, 2, 1):
        await new_order(
            http,
            caseworker,
            await new_customer(http, caseworker),
            unit,
            today - timedelta(days=days),
        )

    first = await http.get("/orders", params={"limit": 2}, headers=provider)
    assert first.headers["x-total-count"] == "3" and len(first.json()) == 2
    second = await http.get(first.links["next"]["url"], headers=provider)
    assert second.headers["x-total-count"] == "3" and len(second.json()) == 1
    assert "next" not in second.links
    by_offset = await http.get("/orders", params={"limit": 2, "offset": 2}, headers=provider)
    assert by_offset.json() == second.json()


async def test_customers_come_a_page_at_a_time_by_name(http, as_):
    caseworker = as_("caseworker")
    tag = f"Sida{uuid.uuid4().hex[:6]}"
    made = [
        (await new_customer(http, caseworker, last_name=f"{tag}{letter}"))["id"]
        for letter in "GFEDCBA"
    ]
    added: list[str] = []

    async def more(page: int) -> None:
        added.append((await new_customer(http, caseworker, last_name=f"{tag}Z{page}"))["id"])

    pages = await walk(
        http, "/customers", headers=caseworker, params={"q": tag, "limit": 2}, between=more
    )
    seen = ids_of(pages)
    assert seen[: len(made)] == made[::-1]  # by last name: A to G
    assert seen[len(made) :] == added  # the Z names come last, each once
    # the cursor does not carry the name it was made from in the clear
    first = await http.get("/customers", params={"q": tag, "limit": 2}, headers=caseworker)
    cursor = cursor_of(first)
    opened = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    assert tag.encode() not in opened


async def test_the_ivo_report_is_paged_too(http, as_):
    admin, caseworker = as_("admin"), as_("caseworker")
    unit = await new_unit(http, admin)
    long_ago = today_in_stockholm() - timedelta(days=200)
    made = [
        (await new_order(http, caseworker, await new_customer(http, caseworker), unit, long_ago))[
            "id"
        ]
        for _ in range(5)
    ]
    pages = await walk(
        http, "/reports/unexecuted-decisions", headers=caseworker, params={"limit": 2}
    )
    seen = ids_of(pages)
    assert len(seen) == len(set(seen)) and set(made) <= set(seen)
    assert all(len(page) <= 2 for page in pages)


async def test_a_page_size_over_the_bound_is_a_422_naming_it(http, as_):
    caseworker = as_("caseworker")
    for path, bound in (
        ("/orders", 500),
        ("/customers", 500),
        ("/reports/unexecuted-decisions", 1000),
    ):
        refused = await http.get(path, params={"limit": bound + 1}, headers=caseworker)
        assert refused.status_code == 422, path
        [problem] = refused.json()["detail"]
        assert problem["loc"] == ["query", "limit"] and str(bound) in problem["msg"], problem


async def test_a_changed_or_foreign_cursor_is_a_400_that_says_so(http, as_):
    admin, caseworker = as_("admin"), as_("caseworker")
    unit = await new_unit(http, admin)
    today = today_in_stockholm()
    for _ in range(2):
        await new_order(http, caseworker, await new_customer(http, caseworker), unit, today)
    page = await http.get("/orders", params={"unit_id": unit, "limit": 1}, headers=caseworker)
    cursor = cursor_of(page)

    for params in (
        {"unit_id": unit, "cursor": tampered(cursor)},
        {"unit_id": unit, "cursor": "not-a-cursor"},
        {"unit_id": unit, "status": "ended", "cursor": cursor},  # other filters
    ):
        refused = await http.get("/orders", params=params, headers=caseworker)
        assert refused.status_code == 400, params
        error = refused.json()["error"]
        assert error["code"] == "cursor_invalid"
        assert "start again from the first page" in error["message"]
    # another list's cursor
    refused = await http.get("/customers", params={"cursor": cursor}, headers=caseworker)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "cursor_invalid"
    both = await http.get(
        "/orders", params={"unit_id": unit, "cursor": cursor, "offset": 1}, headers=caseworker
    )
    assert both.status_code == 400 and both.json()["error"]["code"] == "cursor_and_offset"
