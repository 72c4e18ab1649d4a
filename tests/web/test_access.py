"""A unit's Behörighetsadministratör (unit_admin): who has access to the unit, giving a
person access there, and ending it; the identity service's refusals shown on the page."""

from __future__ import annotations

import re
import uuid

import httpx
from playwright.async_api import expect

from services.common.auth import Role
from services.common.dates import today_in_stockholm as today
from tests.web.pages import sign_in


async def test_a_unit_admin_gives_a_provider_access_who_then_signs_in_there(
    page, staff, axe, shoot
):
    unit = await staff.unit("Lindgårdens äldreboende")
    admin = staff.person(Role.unit_admin, unit["id"], name="Ulla Admin")
    await sign_in(page, admin)

    await expect(page.get_by_role("heading", level=1)).to_contain_text("Behörigheter")
    await expect(page.get_by_role("link", name="Behörigheter")).to_have_attribute(
        "aria-current", "page"
    )
    await expect(page.get_by_text("Behörighetsadministratör").first).to_be_visible()
    people = page.get_by_role("table")
    await expect(people.get_by_role("row", name=re.compile("Ulla Admin"))).to_be_visible()
    await axe.check(page, "access")

    newcomer = f"nya{uuid.uuid4().hex[:6]}"
    await page.get_by_label("Användarnamn").fill(newcomer)
    await page.get_by_label("Namn", exact=True).fill("Nora Nyström")
    await page.get_by_label("Roll").select_option(label="Utförare")
    await page.get_by_role("button", name="Ge behörighet").click()
    await expect(page.get_by_role("status")).to_contain_text("Nora Nyström har fått behörighet.")
    row = people.get_by_role("row", name=re.compile("Nora Nyström"))
    await expect(row).to_contain_text("Utförare")
    await expect(row).to_contain_text(str(today()))
    await expect(row).to_contain_text("tills vidare")
    await shoot(page, "behorigheter", docs=True)
    await page.set_viewport_size({"width": 320, "height": 800})
    await shoot(page, "behorigheter-320")
    await axe.check(page, "access at 320 px")
    await page.set_viewport_size({"width": 1280, "height": 900})

    # the same role at the unit twice at once: the identity service's 409, said in Swedish
    await page.get_by_label("Användarnamn").fill(newcomer)
    await page.get_by_label("Namn", exact=True).fill("Nora Nyström")
    await page.get_by_role("button", name="Ge behörighet").click()
    await expect(page.get_by_role("alert")).to_contain_text("har redan den rollen på enheten")

    # ended today: today is her last day
    await row.get_by_role("button", name="Avsluta behörigheten för Nora Nyström").click()
    await expect(page.get_by_role("status")).to_contain_text(
        f"Behörigheten för Nora Nyström upphör {today()}."
    )
    await expect(row).to_contain_text(str(today()))

    await page.get_by_role("button", name="Logga ut").click()
    await sign_in(page, newcomer)
    await expect(page.get_by_role("heading", name="Startsida")).to_be_visible()
    await expect(page.get_by_text(unit["name"])).to_be_visible()


async def test_an_incomplete_form_is_told_what_is_missing_at_each_field(page, staff, axe):
    unit = await staff.unit()
    admin = staff.person(Role.unit_admin, unit["id"])
    await sign_in(page, admin)
    await page.get_by_label("Till").fill("2020-01-01")
    await page.get_by_role("button", name="Ge behörighet").click()
    summary = page.get_by_role("alert")
    await expect(summary).to_contain_text("Fyll i personens användarnamn")
    await expect(summary).to_contain_text("Fyll i fältet.")
    await axe.check(page, "access refused")
    # what the identity service refuses comes back at its field: an end before the start
    await page.get_by_label("Användarnamn").fill(f"x{uuid.uuid4().hex[:6]}")
    await page.get_by_label("Namn", exact=True).fill("Sen Start")
    await page.get_by_label("Från").fill(str(today()))
    await page.get_by_role("button", name="Ge behörighet").click()
    await expect(page.get_by_role("alert")).to_contain_text(
        "Sista dagen kan inte vara före första dagen."
    )
    await expect(page.get_by_label("Namn", exact=True)).to_have_value("Sen Start")


async def test_another_role_may_not_open_the_access_page(page, staff):
    unit = await staff.unit()
    user = staff.person(Role.provider, unit["id"])
    await sign_in(page, user)
    answer = await page.goto("/behorigheter")
    assert answer is not None and answer.status == 403
    await expect(page.get_by_role("heading", level=1)).to_have_text("Du har inte behörighet")


async def test_the_start_page_of_a_unit_admin_is_the_access_page(page, staff):
    unit = await staff.unit()
    admin = staff.person(Role.unit_admin, unit["id"])
    await sign_in(page, admin)
    await page.get_by_role("link", name="Lifecare").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Behörigheter")


async def test_ending_access_at_another_unit_is_refused_and_nothing_changes(page, staff, as_):
    mine = await staff.unit()
    theirs = await staff.unit("Grannens äldreboende")
    admin = staff.person(Role.unit_admin, mine["id"])
    other = await staff.membership(
        f"ann{uuid.uuid4().hex[:6]}", "Annan Enhet", Role.provider, theirs["id"]
    )
    await sign_in(page, admin)
    # a form of this page, sent for a membership of another unit (as a forged post would)
    csrf = await page.locator("input[name=csrf]").first.input_value()
    answer = await page.request.post(
        f"/behorigheter/{other['id']}/avsluta", form={"csrf": csrf, "valid_to": str(today())}
    )
    assert answer.status == 403
    assert "Du kan bara ändra behörigheter på din egen enhet." in await answer.text()
    async with httpx.AsyncClient(base_url=staff.identity_url) as identity:
        listed = await identity.get(f"/units/{theirs['id']}/memberships", headers=as_("admin"))
    (still,) = [m for m in listed.json() if m["id"] == other["id"]]
    assert still["valid_to"] is None  # not ended
