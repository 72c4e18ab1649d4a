"""The admin: the provider units, and one customer's audit log."""

from __future__ import annotations

import re
import uuid

from playwright.async_api import expect

from services.common.auth import Role
from tests.web.pages import sign_in


def menu(page):
    return page.get_by_role("navigation", name="Meny")


async def test_an_admin_adds_a_unit_and_the_same_id_twice_is_refused(page, staff, axe, shoot):
    unit_id = f"ros-{uuid.uuid4().hex[:6]}"
    name = f"Rosengårdens äldreboende {staff.tag}"
    await sign_in(page, staff.person(Role.admin, name="Sara Förvaltare"))

    await menu(page).get_by_role("link", name="Enheter").click()
    await expect(page.get_by_role("heading", level=1, name="Enheter")).to_be_visible()
    await axe.check(page, "Enheter")
    await page.get_by_label("Id", exact=True).fill("Rosengården")  # not an id
    await page.get_by_label("Namn", exact=True).fill(name)
    await page.get_by_role("button", name="Spara").click()
    field = page.get_by_label("Id", exact=True)
    await expect(field).to_have_accessible_description(re.compile("små bokstäver a–z"))
    await expect(page.get_by_label("Namn", exact=True)).to_have_value(name)
    await field.fill(unit_id)
    await page.get_by_role("button", name="Spara").dblclick()  # saved once
    await expect(page.get_by_role("status")).to_contain_text(f"Enheten {name} är sparad.")
    units = page.get_by_role("table", name="Alla enheter")
    await expect(units.get_by_role("row").filter(has_text=unit_id)).to_contain_text(name)
    await axe.check(page, "unit added")
    await shoot(page, "enheter", docs=True)

    await page.get_by_label("Id", exact=True).fill(unit_id)
    await page.get_by_label("Namn", exact=True).fill("Ett annat namn")
    await page.get_by_role("button", name="Spara").click()
    await expect(page.get_by_role("alert")).to_be_focused()
    await expect(field).to_have_accessible_description(
        re.compile("Det finns redan en enhet med det id:t.")
    )
    await expect(page.get_by_label("Namn", exact=True)).to_have_value("Ett annat namn")
    await expect(units.get_by_role("row").filter(has_text=unit_id)).to_have_count(1)
    await axe.check(page, "unit refused")


async def test_a_customers_audit_log_shows_who_read_what(page, staff, axe, shoot):
    unit = await staff.unit("Vallmons äldreboende")
    customer = await staff.customer("Rut", f"Dahl{staff.tag}")
    await staff.order(customer, unit)
    provider = staff.person(Role.provider, unit["id"], name="Anna Andersson")
    await sign_in(page, provider)  # her Startsida reads the unit's orders: the customer's
    await page.get_by_role("button", name="Logga ut").click()

    await sign_in(page, staff.person(Role.admin))
    await menu(page).get_by_role("link", name="Granskningslogg").click()
    await expect(page.get_by_role("heading", level=1, name="Granskningslogg")).to_be_visible()
    await axe.check(page, "Granskningslogg")
    await page.get_by_label("Sök brukare").fill(customer["customer_number"])
    await page.get_by_role("button", name="Sök", exact=True).click()
    await axe.check(page, "customer found")
    await page.get_by_role("link", name=f"Rut {customer['last_name']}").click()

    log = page.get_by_role("table", name=re.compile("händelser i alla tjänster"))
    created = log.get_by_role("row").filter(has_text="customer.create")
    await expect(created).to_contain_text("Biståndshandläggare")
    read = log.get_by_role("row").filter(has_text=provider)
    await expect(read.first).to_contain_text("Utförare")
    await expect(read.first).to_contain_text(unit["id"])
    await expect(read.first).to_contain_text("order.list")
    await axe.check(page, "audit log")
    await shoot(page, "granskningslogg")
