"""Startsida: each role's home screen, its boxes filled by concurrent calls."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from services.common.auth import Role
from services.web.fees import ABSENCE_CHANGES
from services.web.listing import WHOLE, every_row
from services.web.pages import Page, Web

router = APIRouter()

BOX_ROWS = 10  # the rows a box shows; its heading says how many there are


async def first_rows(
    page: Page, path: str, service: str = "orders", **params: Any
) -> tuple[list[dict[str, Any]], int]:
    """The first rows of a service's list and how many there are in all (`X-Total-Count`):
    a box shows a few and says how many."""
    answer = await page.api.call(
        service, "GET", path, page.token, params={**params, "limit": BOX_ROWS}
    )
    rows = answer.json()
    return rows, int(answer.headers.get("X-Total-Count", len(rows)))


NAMES_PER_CALL = 100  # the ids one call asks for: the customers list's page


async def names_of(page: Page, customer_ids: set[str]) -> dict[str, dict[str, Any]]:
    """The customers of these ids (number and name): one call for each hundred, all at once
    (a box of 250 absent customers shows every name, not the first hundred's)."""
    ids = sorted(customer_ids)
    found = await asyncio.gather(
        *(
            page.api.get(
                "orders",
                "/customers",
                page.token,
                id=ids[i : i + NAMES_PER_CALL],
                limit=NAMES_PER_CALL,
            )
            for i in range(0, len(ids), NAMES_PER_CALL)
        )
    )
    return {c["id"]: c for customers in found for c in customers}


@router.get("/")
async def start(page: Web) -> Response:
    if page.role == Role.unit_admin:  # who has access to the unit is all a unit_admin sees
        return page.redirect("/behorigheter")
    page.unread()  # the header's count, fetched beside the boxes' calls
    if page.role == Role.provider:
        return await _provider(page)
    if page.role == Role.caseworker:
        return await _caseworker(page)
    if page.role == Role.fee_admin:
        return await _fee_admin(page)
    if page.role == Role.coordinator:
        return await _coordinator(page)
    return await _admin(page)


async def absent_with_names(page: Page) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The current absences and their customers' names: the names as soon as the absences
    are in, while the page's other calls may still be under way."""
    absences = await every_row(page, "absence", "/absences", current="true", limit=WHOLE)
    return absences, await names_of(page, {a["customer_id"] for a in absences})


async def _provider(page: Page) -> Response:
    found = await page.api.gather(
        unconfirmed=first_rows(page, "/orders", status="unconfirmed"),
        absent=absent_with_names(page),
    )
    absences, customers = found["absent"]
    unconfirmed, unconfirmed_count = found["unconfirmed"]
    return await page.render(
        "home/provider.html",
        unconfirmed=unconfirmed,
        unconfirmed_count=unconfirmed_count,
        absences=absences,
        customers=customers,
        box_rows=BOX_ROWS,
    )


async def _caseworker(page: Page) -> Response:
    units = await page.api.get("orders", "/units", page.token)

    async def oldest_and_count(unit: str) -> tuple[dict[str, Any] | None, int]:
        answer = await page.api.call(
            "orders",
            "GET",
            "/orders",
            page.token,
            params={"status": "unconfirmed", "unit_id": unit, "limit": 1},
        )
        rows = answer.json()
        return (rows[0] if rows else None), int(answer.headers.get("X-Total-Count", len(rows)))

    # one call per unit, all at once: the count and the oldest decision of each
    counted = await asyncio.gather(*(oldest_and_count(u["id"]) for u in units))
    per_unit = dict(zip((u["id"] for u in units), counted, strict=True))
    return await page.render("home/caseworker.html", units=units, per_unit=per_unit)


async def absence_boxes_with_names(
    page: Page,
) -> tuple[list[dict[str, Any]], tuple[list[dict[str, Any]], int], dict[str, Any]]:
    """The fee administrator's two absence boxes and the names of the customers they show:
    the names as soon as both lists are in, while the held invoices may still be under way."""
    absences, unhandled = await asyncio.gather(
        every_row(page, "absence", "/absences", current="true", limit=WHOLE),
        first_rows(page, "/absences", "absence", unhandled="true"),
    )
    shown = {a["customer_id"] for a in [*absences[:BOX_ROWS], *unhandled[0]]}
    return absences, unhandled, await names_of(page, shown)


async def _fee_admin(page: Page) -> Response:
    found = await page.api.gather(
        held=first_rows(page, "/invoices", "billing", status="held"),
        absent=absence_boxes_with_names(page),
    )
    absences, (unhandled, unhandled_count), customers = found["absent"]
    held, held_count = found["held"]
    return await page.render(
        "home/fee_admin.html",
        held=held,
        held_count=held_count,
        absences=absences,
        unhandled=unhandled,
        unhandled_count=unhandled_count,
        changes=ABSENCE_CHANGES,
        customers=customers,
        box_rows=BOX_ROWS,
    )


async def _coordinator(page: Page) -> Response:
    inbox = await page.api.get("messaging", "/messages", page.token, folder="inbox")
    return await page.render("home/coordinator.html", inbox=inbox, box_rows=BOX_ROWS)


async def _admin(page: Page) -> Response:
    units = await page.api.get("orders", "/units", page.token)
    return await page.render("home/admin.html", units=units)
