"""The manual's chapter 2: sign in (at the OpenID Connect provider: here the development
provider, the certified `oidc-provider`), choose role and unit, switch unit, sign out; and
what a person sees when the sign-in or their access does not hold."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from playwright.async_api import expect

from services.common.auth import Role
from services.common.dates import today_in_stockholm as today
from tests.web.data import people_ready
from tests.web.pages import origin, sign_in


async def test_a_provider_with_two_units_signs_in_at_the_provider_and_can_switch(
    page, staff, axe, shoot, served, idp
):
    north = await staff.unit("Norrgårdens äldreboende")
    south = await staff.unit("Södergårdens vård- och omsorgsboende")
    user = staff.person(Role.provider, north["id"], south["id"], name="Anna Andersson")
    customer = await staff.customer("Elsa")
    await staff.order(customer, north)
    await people_ready()

    await page.goto("/")
    assert origin(page.url) == idp  # straight on to the identity provider
    await expect(page.get_by_role("heading", name="Logga in")).to_be_visible()
    await axe.check(page, "the provider's sign-in")
    await shoot(page, "sign-in", docs=True)
    await page.get_by_label("Användare", exact=True).fill(user)
    await page.get_by_role("button", name="Logga in").click()

    await expect(page.get_by_role("heading", name="Välj roll och enhet")).to_be_visible()
    assert origin(page.url) == served
    await expect(page.get_by_text("Inloggad som Anna Andersson.")).to_be_visible()
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

    # the other unit's token: the same services now show the other unit's orders (none)
    await page.get_by_role("link", name="Byt enhet").click()
    await page.get_by_label("Enhet").select_option(label=south["name"])
    await page.get_by_role("button", name="Fortsätt").click()
    await expect(page.get_by_text(south["name"])).to_be_visible()
    box = page.get_by_role("region", name=re.compile("Ej bekräftade beställningar"))
    await expect(box.get_by_text("Inga ej bekräftade beställningar.")).to_be_visible()

    await page.get_by_role("button", name="Logga ut").click()
    await expect(page.get_by_text("Du är utloggad.")).to_be_visible()
    await axe.check(page, "signed out")
    await shoot(page, "utloggad")
    await page.goto("/")
    assert origin(page.url) == idp
    # the provider asks again: the next person at a shared computer is not signed in as her
    await expect(page.get_by_label("Användare", exact=True)).to_be_visible()


async def test_one_role_without_a_unit_is_filled_in_and_a_saved_choice_skips_the_page(page, staff):
    user = staff.person(Role.caseworker, name="Cecilia Berg")
    await people_ready()
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


async def test_a_person_without_any_membership_is_told_so_and_can_sign_out(page, axe, shoot):
    await page.goto("/")
    await page.get_by_label("Användare", exact=True).fill("nobody-here")
    await page.get_by_role("button", name="Logga in").click()

    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Du har ingen behörighet i Lifecare"
    )
    await expect(page.get_by_text("Du är inloggad som nobody-here")).to_be_visible()
    await expect(page.get_by_role("navigation", name="Meny")).to_have_count(0)
    await axe.check(page, "no membership")
    await shoot(page, "ingen-behorighet")
    await page.get_by_role("button", name="Logga ut").click()
    await expect(page.get_by_text("Du är utloggad.")).to_be_visible()
    # and no page of the platform opens
    await page.goto("/brukare")
    await expect(page.get_by_label("Användare", exact=True)).to_be_visible()


async def test_an_expired_session_signs_in_again_and_comes_back_to_the_same_page(
    page, context, staff, served
):
    unit = await staff.unit()
    user = staff.person(Role.provider, unit["id"])
    await sign_in(page, user)
    await context.clear_cookies()  # as when the session has ended on the server
    await page.goto("/bestallningar/bekraftade?sida=1")
    await page.get_by_label("Användare", exact=True).fill(user)
    await page.get_by_role("button", name="Logga in").click()
    await page.get_by_role("button", name="Fortsätt").click()
    await expect(page).to_have_url(f"{served}/bestallningar/bekraftade?sida=1")


async def test_an_ended_membership_signs_the_person_out_at_the_next_renewal(
    page, staff, web_app, as_, idp, served
):
    unit = await staff.unit()
    user = "prov" + staff.tag
    held = await staff.membership(
        user, "Test Utförare", Role.provider, unit["id"], valid_from=str(today() - timedelta(5))
    )
    await sign_in(page, user)
    await expect(page.get_by_role("heading", name="Startsida")).to_be_visible()

    async with httpx.AsyncClient(base_url=staff.identity_url) as identity:
        ended = await identity.post(
            f"/memberships/{held['id']}/end",
            json={"valid_to": str(today() - timedelta(1))},
            headers=as_("admin"),
        )
    assert ended.status_code == 200, ended.text
    # the token still works for its few minutes; let it be due for renewal now
    cookie = next(
        c["value"] for c in await page.context.cookies(served) if c["name"] == "lifecare_session"
    )
    session = await web_app.state.sessions.load(cookie)
    session.token_expires = 0
    await web_app.state.sessions.save(session)

    await page.goto("/bestallningar")
    await expect(page.get_by_text("din behörighet har ändrats eller upphört")).to_be_visible()
    await page.goto("/bestallningar")
    assert origin(page.url) == idp  # signed out: on to sign in again


async def test_a_callback_this_browser_did_not_start_is_refused_with_a_way_back(page, axe):
    await page.goto("/logga-in/klar?code=made-up&state=made-up")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Inloggningen gick inte")
    await expect(page.get_by_role("alert")).to_contain_text("Börja om")
    await axe.check(page, "callback refused")
    await page.get_by_role("link", name="Logga in igen").click()
    await expect(page.get_by_label("Användare", exact=True)).to_be_visible()


async def test_a_callback_with_another_state_than_the_one_sent_is_refused(page, served, idp):
    await page.goto("/")  # a sign-in started: this browser's session holds its state
    assert origin(page.url) == idp
    answer = await page.goto(f"{served}/logga-in/klar?code=made-up&state=not-the-one-sent")
    assert answer is not None and answer.status == 400
    await expect(page.get_by_role("alert")).to_contain_text("Inloggningen kunde inte avslutas")


async def test_a_sign_in_the_provider_refused_says_so(page, served, idp, web_app):
    await page.goto("/")  # a sign-in started
    assert origin(page.url) == idp
    cookie = next(
        c["value"] for c in await page.context.cookies(served) if c["name"] == "lifecare_session"
    )
    state = (await web_app.state.sessions.load(cookie)).pending.state
    # the provider sends the person back with an error (as when they cancel there)
    answer = await page.goto(f"{served}/logga-in/klar?error=access_denied&state={state}")
    assert answer is not None and answer.status == 400
    await expect(page.get_by_role("alert")).to_contain_text("Inloggningen avbröts")
