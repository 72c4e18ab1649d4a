"""Each role's Startsida: what is waiting, counted by the services, never capped."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.async_api import expect

from services.common.auth import Role
from services.common.dates import today_in_stockholm as today
from tests.web.pages import sign_in


async def test_a_caseworker_sees_each_units_unconfirmed_orders_and_opens_one_unit(
    page, staff, axe
) -> None:
    north, south = await staff.unit("Norrbackens boende"), await staff.unit("Söderbackens boende")
    for _ in range(2):
        await staff.order(await staff.customer("Ingrid"), north)
    await staff.order(await staff.customer("Ingrid"), south)
    await sign_in(page, staff.person(Role.caseworker, name="Cecilia Berg"))

    box = page.get_by_role("region", name="Ej bekräftade beställningar per enhet")
    north_row = box.get_by_role("row", name=re.compile(north["name"]))
    await expect(north_row.get_by_role("cell").nth(1)).to_have_text("2")
    south_row = box.get_by_role("row", name=re.compile(south["name"]))
    await expect(south_row.get_by_role("cell").nth(1)).to_have_text("1")
    await axe.check(page, "caseworker's start page")

    await north_row.get_by_role("link", name=north["name"]).click()
    await expect(page.get_by_role("heading", name="Ej bekräftade beställningar")).to_be_visible()
    await expect(page.get_by_text("2 ej bekräftade beställningar")).to_be_visible()
    rows = page.get_by_role("table").get_by_role("row")
    await expect(rows).to_have_count(3)  # the header and the unit's two
    await axe.check(page, "one unit's unconfirmed orders")


async def test_a_providers_start_page_counts_all_that_waits_and_shows_the_first(
    page, staff, axe, shoot
) -> None:
    unit = await staff.unit("Solbackens äldreboende")
    people = [
        ("Astrid", "Lindqvist"), ("Gunnar", "Holm"), ("Margit", "Sjöberg"),
        ("Karl-Erik", "Nyström"), ("Birgitta", "Ek"), ("Elsa", "Berglund"),
        ("Olle", "Sandberg"), ("Signe", "Åkesson"), ("Harald", "Lund"),
        ("Dagny", "Forsberg"), ("Folke", "Hedlund"), ("Greta", "Wallin"),
    ]  # fmt: skip
    for first_name, last_name in people:
        await staff.order(await staff.customer(first_name, last_name), unit)
    absent = await staff.customer("Ingegerd", "Palm")
    await staff.confirmed(absent, unit)
    await staff.absence(absent, unit, today() - timedelta(days=2))
    await sign_in(page, staff.person(Role.provider, unit["id"], name="Anna Andersson"))

    box = page.get_by_role("region", name=re.compile("Ej bekräftade beställningar"))
    await expect(box.get_by_role("heading")).to_contain_text("12")
    await expect(box.get_by_role("row")).to_have_count(11)  # the header and the first ten
    await expect(
        box.get_by_role("link", name="Visa alla 12 ej bekräftade beställningar")
    ).to_be_visible()
    absence = page.get_by_role("region", name=re.compile("^Frånvaro"))
    row = absence.get_by_role("row", name=re.compile("Ingegerd"))
    await expect(row).to_contain_text("Sjukhusvistelse")
    await expect(row).to_contain_text("Tills vidare")
    await axe.check(page, "a busy start page")
    await shoot(page, "startsida", docs=True)

    await row.get_by_role("link", name=re.compile("Alternativ")).click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Ingegerd")
