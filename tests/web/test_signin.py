"""The manual's chapter 2: sign in, choose role and unit, switch unit, sign out."""

from __future__ import annotations

import re

from playwright.async_api import expect

from services.common.auth import Role
from tests.web.pages import sign_in


async def test_a_provider_with_two_units_chooses_one_and_can_switch(page, staff, axe, shoot):
    north = await staff.unit("Norrgårdens äldreboende")
    south = await staff.unit("Södergårdens vård- och omsorgsboende")
    user = staff.person(Role.provider, north["id"], south["id"], name="Anna Andersson")
    customer = await staff.customer("Elsa")
    await staff.order(customer, north)

    await page.goto("/")
    await expect(page).to_have_url(re.compile(r"/logga-in$"))
    await axe.check(page, "sign-in")
    await shoot(page, "sign-in", docs=True)
    await page.get_by_label("Användare", exact=True).fill(user)
    await page.get_by_role("button", name="Logga in").click()

    await expect(page.get_by_role("heading", name="Välj roll och enhet")).to_be_visible()
    await expect(page.get_by_label("Roll")).to_have_value("provider")  # her only role
    await axe.check(page, "role and unit")
    await page.get_by_label("Enhet").select_option(label=north["name"])
    await page.get_by_role("button", name="Fortsätt").click()

    await expect(page.get_by_role("heading", name="Startsida")).to_be_visible()
    await expect(page.get_by_text(north["name"])).to_be_visible()
    box = page.get_by_role("region", name=re.compile("Ej bekräftade beställningar"))
    await expect(box.get_by_role("link", name=re.compile(customer["last_name"]))).to_be_visible()
    await axe.check(page, "start page")
    await shoot(page, "startsida-efter-inloggning")

    await page.get_by_role("link", name="Byt enhet").click()
    await page.get_by_label("Enhet").select_option(label=south["name"])
    await page.get_by_role("button", name="Fortsätt").click()
    await expect(page.get_by_text(south["name"])).to_be_visible()
    box = page.get_by_role("region", name=re.compile("Ej bekräftade beställningar"))
    await expect(box.get_by_text("Inga ej bekräftade beställningar.")).to_be_visible()

    await page.get_by_role("button", name="Logga ut").click()
    await expect(page.get_by_text("Du är utloggad.")).to_be_visible()
    await page.goto("/")
    await expect(page).to_have_url(re.compile(r"/logga-in$"))


async def test_one_role_without_a_unit_is_filled_in_and_a_saved_choice_skips_the_page(
    page, staff, axe
):
    user = staff.person(Role.caseworker, name="Cecilia Berg")
    await page.goto("/")
    await page.get_by_label("Användare", exact=True).fill(user)
    await page.get_by_role("button", name="Logga in").click()
    await expect(page.get_by_label("Roll")).to_have_value("caseworker")
    await expect(page.get_by_label("Enhet")).to_have_count(0)
    await page.get_by_label("Spara mitt val").check()
    await page.get_by_role("button", name="Fortsätt").click()
    await expect(page.get_by_role("heading", name="Startsida")).to_be_visible()
    await page.get_by_role("button", name="Logga ut").click()

    await sign_in(page, user)
    await expect(page.get_by_role("heading", name="Startsida")).to_be_visible()


async def test_an_unknown_user_is_told_so_at_the_field(page, axe):
    await page.goto("/logga-in")
    await page.get_by_label("Användare", exact=True).fill("nobody-here")
    await page.get_by_role("button", name="Logga in").click()
    summary = page.get_by_role("alert")
    await expect(summary).to_contain_text("Det finns ingen användare som heter så")
    await expect(summary).to_be_focused()
    await expect(page.get_by_label("Användare", exact=True)).to_have_value("nobody-here")
    await axe.check(page, "sign-in refused")


async def test_an_expired_session_signs_in_again_and_comes_back_to_the_same_page(
    page, context, staff
):
    unit = await staff.unit()
    user = staff.person(Role.provider, unit["id"])
    await sign_in(page, user)
    await context.clear_cookies()  # as when the session has ended on the server
    await page.goto("/bestallningar/bekraftade?sida=1")
    await expect(page).to_have_url(re.compile(r"/logga-in\?nasta="))
    await page.get_by_label("Användare", exact=True).fill(user)
    await page.get_by_role("button", name="Logga in").click()
    await page.get_by_role("button", name="Fortsätt").click()
    await expect(page).to_have_url(re.compile(r"/bestallningar/bekraftade\?sida=1$"))
