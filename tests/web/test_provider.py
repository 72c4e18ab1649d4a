"""The manual's chapters 3, 4 and 5 in the browser: read, print and confirm an order and find
it under "Bekräftade"; search a customer and end the execution; register, change and remove
absence. Also the refusals at their fields, a double click on "Bekräfta", the flow by
keyboard alone, and the pages at 320 px and at 200 % zoom."""

from __future__ import annotations

import asyncio
import re
from datetime import date, timedelta

from playwright.async_api import Browser, Locator, Page, expect

from services.common.auth import Role
from services.common.dates import today_in_stockholm as today
from tests.integration import personal_data
from tests.web.pages import sign_in


def name_of(customer: dict) -> str:
    return f"{customer['first_name']} {customer['last_name']}"


def dashed(personnummer: str) -> str:
    return f"{personnummer[:8]}-{personnummer[8:]}"


def menu(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Meny")


async def provider_at_a_unit(staff, name: str = "Anna Andersson") -> tuple[dict, str]:
    unit = await staff.unit()
    return unit, staff.person(Role.provider, unit["id"], name=name)


# --- chapter 3: read, print and confirm an order --------------------------------------------


async def test_a_provider_reads_prints_and_confirms_an_order_then_finds_it_confirmed(
    page, staff, axe, shoot
):
    unit, user = await provider_at_a_unit(staff)
    customer = await staff.customer("Astrid")
    order = await staff.order(customer, unit)
    await sign_in(page, user)

    await menu(page).get_by_role("link", name="Ej bekräftade beställningar").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Ej bekräftade beställningar")
    await axe.check(page, "unconfirmed orders")
    await shoot(page, "ej-bekraftade")
    await page.get_by_role("link", name=name_of(customer)).click()

    heading = f"Beställning för {name_of(customer)}"
    await expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    facts = page.get_by_role("main")
    for shown in (
        dashed(customer["personnummer"]),
        customer["customer_number"],
        unit["name"],
        "SoL – Boende",
        order["decision_date"],
        "Beviljas särskilt boende.",
        "Ej bekräftad",
    ):
        await expect(facts).to_contain_text(shown)
    await axe.check(page, "an unconfirmed order")
    await shoot(page, "bestallning", docs=True)

    # "Skriv ut": tick the parts, then a page of those parts with its own "Skriv ut"
    await page.get_by_role("link", name="Skriv ut").click()
    await expect(
        page.get_by_role("group", name="Klicka i de delar du vill skriva ut")
    ).to_be_visible()
    await axe.check(page, "choose the parts to print")
    await page.get_by_label("Övrigt").uncheck()
    await page.get_by_label("Status och verkställighet").uncheck()
    await page.get_by_role("button", name="Skriv ut").click()
    await expect(page).to_have_url(re.compile(r"/skriv-ut\?.*del=brukare"))
    await expect(page.get_by_role("heading", name="Brukare")).to_be_visible()
    await expect(page.get_by_role("heading", name="Insats och beslut")).to_be_visible()
    await expect(page.get_by_role("heading", name="Övrigt")).to_have_count(0)
    await expect(page.get_by_text("Beviljas särskilt boende.")).to_have_count(0)
    printer = page.get_by_role("button", name="Skriv ut")
    await expect(printer).to_have_attribute("data-print", "")
    await axe.check(page, "the printout")
    await shoot(page, "utskrift")
    await page.emulate_media(media="print")  # on paper: the parts alone
    await expect(printer).to_be_hidden()
    await expect(page.get_by_role("navigation", name="Meny")).to_be_hidden()
    await expect(page.get_by_role("heading", name="Brukare")).to_be_visible()
    await page.emulate_media(media="screen")

    # "Bekräfta" with a date in the future
    await page.get_by_role("link", name="Tillbaka till beställningen").click()
    start = today() + timedelta(days=4)
    await page.get_by_label("Datum då insatsen verkställs").fill(str(start))
    await page.get_by_role("button", name="Bekräfta").click()
    await expect(page.get_by_role("status")).to_have_text(
        "Beställningen är verkställd och bekräftad."
    )
    await expect(page.get_by_text(f"Verkställd från {start}")).to_be_visible()
    await expect(page.get_by_label("Datum då insatsen verkställs")).to_have_count(0)
    await expect(page.get_by_role("button", name="Bekräfta")).to_have_count(0)
    await expect(page.get_by_role("link", name="Skriv ut")).to_be_visible()  # still printable
    await axe.check(page, "a confirmed order")
    await shoot(page, "bekraftad")

    # no longer unconfirmed; under "Bekräftade", found by name and by personnummer
    await menu(page).get_by_role("link", name="Ej bekräftade beställningar").click()
    await expect(page.get_by_text("Inga ej bekräftade beställningar.")).to_be_visible()
    await menu(page).get_by_role("link", name="Bekräftade", exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Bekräftade beställningar")
    search = page.get_by_label("Sök på namn, personnummer eller kundnummer")
    for query in (customer["last_name"], customer["personnummer"][2:]):
        await search.fill(query)
        await page.get_by_role("button", name="Sök", exact=True).click()
        await expect(page.get_by_role("table")).to_contain_text(str(start))
        await expect(page.get_by_role("link", name=name_of(customer))).to_be_visible()
    await axe.check(page, "confirmed orders, searched")
    await shoot(page, "bekraftade-sok")
    await page.get_by_role("link", name=name_of(customer)).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(heading)


async def test_confirmed_orders_come_25_to_a_page(page, staff, axe):
    unit, user = await provider_at_a_unit(staff)

    async def one(number: int) -> None:
        await staff.confirmed(await staff.customer(f"Sida{number:02d}"), unit)

    await asyncio.gather(*(one(number) for number in range(26)))
    await sign_in(page, user)
    await page.goto("/bestallningar/bekraftade?sida=1")
    table = page.get_by_role("table")
    await expect(table.get_by_role("caption")).to_contain_text("26 bekräftade beställningar")
    await expect(table.get_by_role("row")).to_have_count(26)  # the head and 25
    pages = page.get_by_role("navigation", name="Sidor")
    await expect(pages).to_contain_text("Sida 1 av 2")
    await axe.check(page, "confirmed, page 1")
    await pages.get_by_role("link", name="Nästa").click()
    await expect(page).to_have_url(re.compile(r"sida=2"))
    await expect(table.get_by_role("row")).to_have_count(2)  # the head and the 26th
    await expect(pages.get_by_role("link", name="Föregående")).to_be_visible()


# --- chapter 4: search a customer, end the execution ----------------------------------------


async def test_b_a_provider_finds_the_customer_by_personnummer_and_ends_the_execution(
    page, staff, axe, shoot
):
    unit, user = await provider_at_a_unit(staff)
    customer = await staff.customer("Karl")
    started = today() - timedelta(days=10)
    await staff.confirmed(customer, unit, started)
    await sign_in(page, user)

    await menu(page).get_by_role("link", name="Sök brukare").click()
    listed = f"{customer['last_name']}, {customer['first_name']}"
    await expect(page.get_by_role("link", name=listed)).to_be_visible()  # the unit's list
    await axe.check(page, "customers of the unit")
    pnr = customer["personnummer"]
    await page.get_by_label("Sök på namn, personnummer eller kundnummer").fill(
        f"{pnr[2:8]}-{pnr[8:]}"  # ÅÅMMDD-NNNN, not as it is stored
    )
    await page.get_by_role("button", name="Sök", exact=True).click()
    await expect(page.get_by_role("table")).to_contain_text(dashed(pnr))
    await axe.check(page, "customer found")
    await shoot(page, "sok-brukare", docs=True)
    await page.get_by_role("link", name=listed).click()

    await expect(page.get_by_role("heading", level=1)).to_have_text(name_of(customer))
    await expect(page.get_by_text(customer["customer_number"])).to_be_visible()
    record = page.get_by_role("navigation", name="Akten")
    await record.get_by_role("link", name="Verkställigheter").click()
    await axe.check(page, "the record's executions")
    await page.get_by_role("link", name="SoL – Boende").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Verkställighet: SoL – Boende")
    await axe.check(page, "an execution")

    await page.get_by_role("link", name="Avsluta verkställighet").click()
    ended = today() - timedelta(days=1)
    await page.get_by_label("Datum för avslut").fill(str(ended))
    await page.get_by_label("Orsak").select_option(label="Flyttat hem")
    await page.get_by_label("Jag är säker på att jag vill avsluta verkställigheten").check()
    await axe.check(page, "end the execution")
    await shoot(page, "avsluta-verkstallighet")
    await page.get_by_role("button", name="Avsluta").click()

    await expect(page.get_by_role("status")).to_have_text("Verkställigheten är avslutad.")
    facts = page.get_by_role("main")
    await expect(facts).to_contain_text("Avslutad")
    await expect(facts).to_contain_text(str(ended))
    await expect(facts).to_contain_text("Flyttat hem")
    await expect(page.get_by_role("link", name="Avsluta verkställighet")).to_have_count(0)
    await axe.check(page, "an ended execution")


# --- chapter 5: absence -----------------------------------------------------------------------


async def test_c_absence_is_added_seen_on_the_start_page_changed_and_one_removed(
    page, staff, axe, shoot
):
    unit, user = await provider_at_a_unit(staff)
    customer = await staff.customer("Sigrid")
    await staff.confirmed(customer, unit, today() - timedelta(days=20))
    await sign_in(page, user)

    await menu(page).get_by_role("link", name="Sök brukare").click()
    await page.get_by_role("link", name=re.compile(customer["last_name"])).click()
    await page.get_by_role("navigation", name="Akten").get_by_role("link", name="Frånvaro").click()
    await expect(page.get_by_text("Ingen frånvaro är registrerad.")).to_be_visible()
    await axe.check(page, "no absence")

    begun = today() - timedelta(days=2)
    await page.get_by_role("link", name="Lägg till").click()
    await page.get_by_label("Orsak").select_option(label="Sjukhusvistelse")
    await page.get_by_label("Beskrivning").fill("Inlagd på Södersjukhuset")
    await page.get_by_label("Från", exact=True).fill(str(begun))
    await axe.check(page, "add absence")
    await shoot(page, "lagg-till-franvaro")
    await page.get_by_role("button", name="Spara").click()
    await expect(page.get_by_role("status")).to_have_text("Frånvaron är registrerad.")
    row = page.get_by_role("row", name=re.compile("Inlagd på Södersjukhuset"))
    await expect(row).to_contain_text(str(begun))
    await expect(row).to_contain_text("Tills vidare")

    # a second, registered by mistake
    await page.get_by_role("link", name="Lägg till").click()
    await page.get_by_label("Orsak").select_option(label="Semester")
    await page.get_by_label("Beskrivning").fill("Fel brukare")
    await page.get_by_label("Från", exact=True).fill(str(today() - timedelta(days=8)))
    await page.get_by_label("Till (frivilligt)", exact=True).fill(str(today() - timedelta(days=6)))
    await page.get_by_role("button", name="Spara").click()
    await expect(page.get_by_role("row", name=re.compile("Fel brukare"))).to_contain_text("3")

    # the Startsida's box shows the current one; "Alternativ" leads to the record
    await menu(page).get_by_role("link", name="Startsida").click()
    box = page.get_by_role("region", name=re.compile("Frånvaro"))
    await expect(box).to_contain_text(name_of(customer))
    await expect(box).to_contain_text("Sjukhusvistelse")
    await expect(box).not_to_contain_text("Semester")
    await box.get_by_role("link", name=re.compile("Alternativ")).click()
    await expect(page).to_have_url(re.compile(rf"/brukare/{customer['id']}/franvaro$"))

    # "Ändra": the customer is back
    back = today() - timedelta(days=1)
    row = page.get_by_role("row", name=re.compile("Inlagd på Södersjukhuset"))
    await row.get_by_role("link", name=re.compile("^Ändra")).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Ändra frånvaro")
    await axe.check(page, "change absence")
    await page.get_by_label("Till (frivilligt)", exact=True).fill(str(back))
    await page.get_by_role("button", name="Spara").click()
    await expect(page.get_by_role("status")).to_have_text("Frånvaron är ändrad.")
    await expect(row).to_contain_text(str(back))
    await expect(row).to_contain_text("2")  # hela dagar utan kost, from begun through back
    await axe.check(page, "absence with its end")
    await shoot(page, "franvaro", docs=True)

    # "Ta bort" the mistaken one, after a question
    mistaken = page.get_by_role("row", name=re.compile("Fel brukare"))
    await mistaken.get_by_role("link", name=re.compile("^Ta bort")).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Vill du ta bort frånvaron?")
    await axe.check(page, "remove absence?")
    await page.get_by_role("button", name="Ta bort").click()
    await expect(page.get_by_role("status")).to_have_text("Frånvaron är borttagen.")
    await expect(page.get_by_role("row", name=re.compile("Fel brukare"))).to_have_count(0)
    await expect(
        page.get_by_role("row", name=re.compile("Inlagd på Södersjukhuset"))
    ).to_be_visible()


# --- what is refused is said at its field -----------------------------------------------------


async def test_d_refusals_are_shown_at_their_fields_with_what_was_typed(
    page, context, staff, axe, shoot
):
    unit, user = await provider_at_a_unit(staff)
    customer = await staff.customer("Rut")
    order = await staff.order(customer, unit)  # decided 3 days ago
    await sign_in(page, user)

    # a start date before the decision date
    await page.goto(f"/bestallningar/{order['id']}")
    early = str(today() - timedelta(days=10))
    field = page.get_by_label("Datum då insatsen verkställs")
    await field.fill(early)
    await page.get_by_role("button", name="Bekräfta").click()
    summary = page.get_by_role("alert")
    await expect(summary).to_contain_text("kan inte vara före beslutsdatumet")
    await expect(summary).to_be_focused()
    await expect(field).to_have_value(early)
    await expect(field).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_text("Ej bekräftad", exact=True).first).to_be_visible()
    await axe.check(page, "start before the decision")
    await shoot(page, "fel-startdatum")

    # confirmed meanwhile in another tab: the second is told so, not shown an error page
    other = await context.new_page()
    await other.goto(f"/bestallningar/{order['id']}")
    await page.reload()
    start = str(today())
    await page.get_by_label("Datum då insatsen verkställs").fill(start)
    await page.get_by_role("button", name="Bekräfta").click()
    await expect(page.get_by_role("status")).to_contain_text("verkställd")
    await other.get_by_label("Datum då insatsen verkställs").fill(start)
    await other.get_by_role("button", name="Bekräfta").click()
    await expect(other.get_by_role("alert")).to_contain_text("redan bekräftad")
    await axe.check(other, "confirmed already")
    await other.close()

    # ending without the tick: said at the tick, nothing ended
    await page.goto(f"/brukare/{customer['id']}/verkstalligheter")
    await page.get_by_role("link", name="SoL – Boende").click()
    await page.get_by_role("link", name="Avsluta verkställighet").click()
    await page.get_by_label("Datum för avslut").fill(start)
    await page.get_by_label("Orsak").select_option(label="Avliden")
    await page.get_by_role("button", name="Avsluta").click()
    await expect(page.get_by_role("alert")).to_contain_text("Kryssa i att du är säker")
    tick = page.get_by_label("Jag är säker på att jag vill avsluta verkställigheten")
    await expect(tick).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_label("Datum för avslut")).to_have_value(start)
    await expect(page.get_by_label("Orsak")).to_have_value("deceased")
    await axe.check(page, "end without the tick")
    await shoot(page, "avsluta-utan-kryss")
    await page.get_by_role("link", name="Avbryt").click()
    await expect(page.get_by_role("main")).not_to_contain_text("Avliden")
    await expect(page.get_by_role("link", name="Avsluta verkställighet")).to_be_visible()

    # absence: Till before Från, then one that overlaps
    await page.goto(f"/brukare/{customer['id']}/franvaro/ny")
    await page.get_by_label("Orsak").select_option(label="Hos anhöriga")
    await page.get_by_label("Beskrivning").fill("Hos dottern")
    await page.get_by_label("Från", exact=True).fill(str(today() + timedelta(days=5)))
    await page.get_by_label("Till (frivilligt)", exact=True).fill(str(today() + timedelta(days=2)))
    await page.get_by_role("button", name="Spara").click()
    await expect(page.get_by_role("alert")).to_contain_text("Till kan inte vara före Från.")
    await expect(page.get_by_label("Till (frivilligt)", exact=True)).to_have_attribute(
        "aria-invalid", "true"
    )
    await expect(page.get_by_label("Beskrivning")).to_have_value("Hos dottern")
    await axe.check(page, "absence ends before it begins")
    await page.get_by_label("Till (frivilligt)", exact=True).fill(str(today() + timedelta(days=8)))
    await page.get_by_role("button", name="Spara").click()
    await expect(page.get_by_role("status")).to_have_text("Frånvaron är registrerad.")
    await page.get_by_role("link", name="Lägg till").click()
    await page.get_by_label("Orsak").select_option(label="Semester")
    await page.get_by_label("Beskrivning").fill("Resa")
    await page.get_by_label("Från", exact=True).fill(str(today() + timedelta(days=7)))
    await page.get_by_role("button", name="Spara").click()
    await expect(page.get_by_role("alert")).to_contain_text("redan frånvaro")
    await expect(page.get_by_label("Från", exact=True)).to_have_attribute("aria-invalid", "true")
    await axe.check(page, "absence overlaps")


# --- a double click on "Bekräfta" -------------------------------------------------------------


async def test_e_a_double_click_on_bekrafta_confirms_once_and_shows_the_order(
    browser: Browser, served: str, staff, axe
):
    unit, user = await provider_at_a_unit(staff)
    customer = await staff.customer("Dagny")
    order = await staff.order(customer, unit)
    context = await browser.new_context(
        base_url=served,
        locale="sv-SE",
        java_script_enabled=False,  # no script to stop a second
    )
    context.set_default_timeout(15_000)
    try:
        page = await context.new_page()
        await sign_in(page, user)
        await page.goto(f"/bestallningar/{order['id']}")
        start = str(today() + timedelta(days=1))
        await page.get_by_label("Datum då insatsen verkställs").fill(start)
        form = page.locator("form", has=page.get_by_role("button", name="Bekräfta"))
        sent = {
            name: await form.locator(f"input[name={name}]").get_attribute("value") or ""
            for name in ("csrf", "form_id")
        }
        # Chromium folds a double click into one navigation, so the two posts a slow
        # network makes are sent side by side with the session's cookie, as the form would
        url = f"/bestallningar/{order['id']}/bekrafta"
        first, second = await asyncio.gather(
            *(
                context.request.post(url, form={**sent, "start_date": start}, max_redirects=0)
                for _ in range(2)
            )
        )
        for answer in (first, second):  # both shown the confirmed order, neither refused
            assert answer.status == 303, answer.status
            assert answer.headers["location"] == f"/bestallningar/{order['id']}"
        await page.get_by_role("button", name="Bekräfta").dblclick()  # the same form again
        await expect(page.get_by_text(f"Verkställd från {start}")).to_be_visible()
        await expect(page.get_by_role("alert")).to_have_count(0)
        await expect(page.get_by_role("heading", level=1)).to_have_text(
            f"Beställning för {name_of(customer)}"
        )
        # axe needs script: the same page, in the same session, with script on
        state = await context.storage_state()
        seeing = await browser.new_context(base_url=served, locale="sv-SE", storage_state=state)
        try:
            again = await seeing.new_page()
            await again.goto(page.url)
            await expect(again.get_by_text(f"Verkställd från {start}")).to_be_visible()
            await axe.check(again, "after a double click")
        finally:
            await seeing.close()
    finally:
        await context.close()


# --- by keyboard alone ------------------------------------------------------------------------


async def tab_to(page: Page, target: Locator, *, back: bool = False, limit: int = 60) -> None:
    """Press Tab (or Shift+Tab) until `target` has the focus, which must be visible."""
    await expect(target).to_be_visible()
    for _ in range(limit):
        await page.keyboard.press("Shift+Tab" if back else "Tab")
        if await target.evaluate("e => e === document.activeElement"):
            outline = await target.evaluate(
                "e => { const s = getComputedStyle(e); return [s.outlineStyle, s.outlineWidth]; }"
            )
            assert outline[0] != "none" and outline[1] != "0px", outline
            return
    raise AssertionError(f"Tab never reached {target}")


async def date_keys(page: Page, day: date) -> str:
    """What to type into a date field for `day`: its parts in the order this browser shows
    them (Chromium follows its own language, not the page's), found on a scratch page."""
    probe = await page.context.new_page()
    try:
        await probe.set_content('<input type="date" aria-label="x">')
        await probe.get_by_label("x").focus()
        await probe.keyboard.type("12052026")
        month_first = await probe.get_by_label("x").input_value() == "2026-12-05"
    finally:
        await probe.close()
    return day.strftime("%m%d%Y" if month_first else "%Y%m%d")


async def test_f_the_provider_flow_by_keyboard_alone(page, staff, axe):
    unit, user = await provider_at_a_unit(staff)
    customer = await staff.customer("Ingrid")
    await staff.order(customer, unit)
    keys = page.keyboard

    await page.goto("/")
    await tab_to(page, page.get_by_label("Användare", exact=True))
    await keys.type(user)
    await keys.press("Enter")
    await tab_to(page, page.get_by_role("button", name="Fortsätt"))
    await keys.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Startsida")

    await tab_to(page, page.get_by_role("link", name=name_of(customer)))
    await keys.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_contain_text(name_of(customer))
    await tab_to(page, page.get_by_role("link", name="Skriv ut"))
    await keys.press("Enter")
    await tab_to(page, page.get_by_role("button", name="Skriv ut"))
    await tab_to(page, page.get_by_label("Övrigt"), back=True)
    await keys.press("Space")
    await expect(page.get_by_label("Övrigt")).not_to_be_checked()
    await tab_to(page, page.get_by_role("button", name="Skriv ut"))
    await keys.press("Enter")
    await expect(page.get_by_role("heading", name="Brukare")).to_be_visible()
    await expect(page.get_by_role("heading", name="Övrigt")).to_have_count(0)
    await tab_to(page, page.get_by_role("link", name="Tillbaka till beställningen"))
    await keys.press("Enter")

    start = today() + timedelta(days=2)
    field = page.get_by_label("Datum då insatsen verkställs")
    await tab_to(page, field)
    await keys.type(await date_keys(page, start))
    await expect(field).to_have_value(str(start))
    await tab_to(page, page.get_by_role("button", name="Bekräfta"))
    await keys.press("Enter")
    await expect(page.get_by_text(f"Verkställd från {start}")).to_be_visible()

    await tab_to(page, menu(page).get_by_role("link", name="Bekräftade", exact=True), back=True)
    await keys.press("Enter")
    await tab_to(page, page.get_by_label("Sök på namn, personnummer eller kundnummer"))
    await keys.type(customer["customer_number"])
    await keys.press("Enter")
    await tab_to(page, page.get_by_role("link", name=name_of(customer)))
    await keys.press("Enter")
    await expect(page.get_by_text(f"Verkställd från {start}")).to_be_visible()
    await axe.check(page, "after the keyboard flow")


# --- 320 px wide and 200 % zoom -------------------------------------------------------------


async def test_g_the_pages_reflow_at_320_px_and_at_200_percent_zoom(
    browser: Browser, served: str, staff, axe, shoot
):
    unit, user = await provider_at_a_unit(staff, name="Maria Karlsson-Lindqvist")
    waiting = await staff.customer("Elisabet")
    order = await staff.order(waiting, unit)
    living = await staff.customer("Gunborg")
    await staff.confirmed(living, unit)
    screens = {
        "320px": {"viewport": {"width": 320, "height": 640}},
        "zoom200": {"viewport": {"width": 640, "height": 450}, "device_scale_factor": 2},
    }
    for label, screen in screens.items():
        context = await browser.new_context(base_url=served, locale="sv-SE", **screen)
        context.set_default_timeout(15_000)
        try:
            page = await context.new_page()
            await sign_in(page, user)
            for name, url in (
                ("startsida", "/"),
                ("bestallning", f"/bestallningar/{order['id']}"),
                ("akt", f"/brukare/{living['id']}/verkstalligheter"),
                ("franvaro", f"/brukare/{living['id']}/franvaro/ny"),
            ):
                await page.goto(url)
                await expect(page.get_by_role("heading", level=1)).to_be_visible()
                wide = await page.evaluate(
                    "() => [document.documentElement.scrollWidth, window.innerWidth]"
                )
                assert wide[0] <= wide[1], f"{name} at {label} scrolls sideways: {wide}"
                await axe.check(page, f"{name} at {label}")
                await shoot(page, f"{name}-{label}")
        finally:
            await context.close()


# --- a service that does not answer; the other roles' view -------------------------------------


async def test_a_service_that_does_not_answer_is_named_and_what_was_typed_is_kept(
    page, web_app, staff, axe
):
    unit, user = await provider_at_a_unit(staff)
    customer = await staff.customer("Ester")
    await staff.confirmed(customer, unit)
    await sign_in(page, user)
    await page.goto(f"/brukare/{customer['id']}/franvaro/ny")
    await page.get_by_label("Orsak").select_option(label="Korttidsvistelse")
    await page.get_by_label("Beskrivning").fill("Korttids på Haga")
    await page.get_by_label("Från", exact=True).fill(str(today()))
    bases = web_app.state.api.base
    working = bases["absence"]
    bases["absence"] = "http://127.0.0.1:9"  # nothing listens there
    try:
        await page.get_by_role("button", name="Spara").click()
        summary = page.get_by_role("alert")
        await expect(summary).to_contain_text("Tjänsten för frånvaro svarar inte just nu")
        await expect(page.get_by_label("Beskrivning")).to_have_value("Korttids på Haga")
        await expect(page.get_by_label("Orsak")).to_have_value("short_term_care")
        await axe.check(page, "absence service down")
    finally:
        bases["absence"] = working
    await page.get_by_role("button", name="Spara").click()  # the same form, sent again
    await expect(page.get_by_role("status")).to_have_text("Frånvaron är registrerad.")


async def test_a_caseworker_sees_each_units_unconfirmed_orders_and_may_withdraw(page, staff, axe):
    north, south = await staff.unit("Norrgården"), await staff.unit("Södergården")
    user = staff.person(Role.caseworker, name="Cecilia Berg")
    up_north, down_south = await staff.customer("Nils"), await staff.customer("Sune")
    order = await staff.order(up_north, north)
    await staff.order(down_south, south)
    await sign_in(page, user)
    await page.goto("/bestallningar")
    await page.get_by_label("Enhet", exact=True).select_option(label=north["name"])
    await page.get_by_role("button", name="Visa").click()
    await expect(page).to_have_url(re.compile(rf"enhet={north['id']}"))
    await expect(page.get_by_role("link", name=name_of(up_north))).to_be_visible()
    await expect(page.get_by_role("link", name=name_of(down_south))).to_have_count(0)
    await axe.check(page, "unconfirmed at one unit")
    await page.get_by_role("link", name=name_of(up_north)).click()
    await expect(page.get_by_role("link", name="Återkalla")).to_have_attribute(
        "href", f"/bestallningar/{order['id']}/aterkalla"
    )
    await expect(page.get_by_role("button", name="Bekräfta")).to_have_count(0)
    await axe.check(page, "an order, as the caseworker sees it")
    await page.goto(f"/brukare/{up_north['id']}")
    await expect(page.get_by_role("link", name="Ny beställning").last).to_have_attribute(
        "href", f"/bestallningar/ny?brukare={up_north['id']}"
    )
    await expect(page.get_by_role("navigation", name="Akten")).not_to_contain_text("Frånvaro")
    await axe.check(page, "the record, as the caseworker sees it")


# --- an order in parts, printed by part (issue 17) ------------------------------------------


async def _order_in_parts(staff, customer: dict, unit: dict) -> dict:
    """An order with every part, posted by a caseworker through the API."""
    decided = today() - timedelta(days=3)
    body = {
        "customer_id": customer["id"],
        "unit_id": unit["id"],
        "decision_date": str(decided),
        "text": "Tycker om att lyssna på radio på morgonen.",
        "parts": {
            "decision": {
                "intervention": "Särskilt boende för äldre",
                "legal_ground": "4 kap. 1 § SoL",
                "valid_from": str(decided),
            },
            "customer": {
                "address": {
                    "street": f"Exempelgatan {staff.tag}",
                    "postal_code": "136 40",
                    "city": "Haninge",
                },
                "phone": "070-174 06 05",
            },
            "contacts": [
                {"name": f"Karin Dotter{staff.tag}", "relation": "Dotter", "phone": "070-174 06 06"}
            ],
            "needs": [
                {
                    "area": "self_care",
                    "description": "Behöver hjälp med dusch morgon och kväll.",
                    "goal": "Känner sig ren och välklädd.",
                },
                {
                    "area": "safety",
                    "description": "Blir orolig på kvällen.",
                    "goal": "Sover gott om natten.",
                },
            ],
        },
    }
    personal_data.remember_also(customer, f"Exempelgatan {staff.tag}", f"Karin Dotter{staff.tag}")
    async with staff.api() as http:
        response = await http.post("/orders", json=body, headers=staff.as_("caseworker"))
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_provider_reads_an_order_in_parts_and_prints_the_needs_and_the_decision_only(
    page, staff, axe, shoot
):
    unit, user = await provider_at_a_unit(staff)
    customer = await staff.customer("Elsa")
    order = await _order_in_parts(staff, customer, unit)
    await page.add_init_script(
        "window.print = () => { window.printed = (window.printed || 0) + 1; };"
    )
    await sign_in(page, user)

    await page.goto(f"/bestallningar/{order['id']}")
    main = page.get_by_role("main")
    for heading, shown in (
        ("Brukare", f"Exempelgatan {staff.tag}"),
        ("Brukare", "136 40 Haninge"),
        ("Brukare", "070-174 06 05"),
        ("Insats och beslut", "4 kap. 1 § SoL"),
        ("Insats och beslut", "Tills vidare"),
        ("Kontaktpersoner", f"Karin Dotter{staff.tag}, Dotter · telefon 070-174 06 06"),
        ("Behov och mål", "Behöver hjälp med dusch morgon och kväll."),
        ("Övrigt", "Tycker om att lyssna på radio på morgonen."),
    ):
        section = main.get_by_role("region", name=heading)
        await expect(section).to_contain_text(shown)
    needs = main.get_by_role("region", name="Behov och mål")
    await expect(needs.get_by_role("heading", level=3)).to_have_text(
        ["Personlig vård", "Känsla av trygghet"]
    )
    await axe.check(page, "an order in parts")
    await shoot(page, "bestallning-i-delar", docs=True)

    # "Skriv ut": tick the decision and the needs only
    await page.get_by_role("link", name="Skriv ut").click()
    group = page.get_by_role("group", name="Klicka i de delar du vill skriva ut")
    for label in ("Brukare", "Kontaktpersoner", "Övrigt", "Status och verkställighet"):
        await group.get_by_label(label).uncheck()
    await expect(group.get_by_label("Insats och beslut")).to_be_checked()
    await expect(group.get_by_label("Behov och mål")).to_be_checked()
    await shoot(page, "skriv-ut-delar")
    await page.get_by_role("button", name="Skriv ut").click()
    await expect(page).to_have_url(re.compile(r"/skriv-ut\?valt=1&del=insats&del=behov$"))
    printout = page.get_by_role("article")
    await expect(printout.get_by_role("heading", level=2)).to_have_text(
        ["Insats och beslut", "Behov och mål"]
    )
    await expect(printout).to_contain_text("Känner sig ren och välklädd.")
    for absent in (
        f"Exempelgatan {staff.tag}",
        f"Karin Dotter{staff.tag}",
        dashed(customer["personnummer"]),
        "Tycker om att lyssna på radio",
    ):
        await expect(page.get_by_text(absent)).to_have_count(0)
    await axe.check(page, "a printout of two parts")
    await shoot(page, "utskrift-i-delar")

    # the button prints, by the script the page links (CSP allows no inline script)
    printer = page.get_by_role("button", name="Skriv ut")
    await printer.click()
    await page.wait_for_function("() => window.printed === 1")
    await expect(page.get_by_text("webbläsarens utskrift (Ctrl+P)")).to_be_hidden()
    await page.emulate_media(media="print")
    await expect(printer).to_be_hidden()
    await expect(printout.get_by_role("heading", name="Behov och mål")).to_be_visible()
    await shoot(page, "utskrift-i-delar-papper")
    await page.emulate_media(media="screen")

    # at 320 px the order and the printout reflow
    await page.set_viewport_size({"width": 320, "height": 640})
    for name, url in (
        ("bestallning-i-delar-320px", f"/bestallningar/{order['id']}"),
        (
            "utskrift-alla-delar-320px",
            f"/bestallningar/{order['id']}/skriv-ut?"
            + "&".join(
                f"del={key}"
                for key in ("brukare", "insats", "kontakter", "behov", "text", "status")
            ),
        ),
    ):
        await page.goto(url)
        await expect(page.get_by_role("heading", name="Behov och mål")).to_be_visible()
        wide = await page.evaluate(
            "() => [document.documentElement.scrollWidth, window.innerWidth]"
        )
        assert wide[0] <= wide[1], f"{name} scrolls sideways: {wide}"
        await axe.check(page, name)
        await shoot(page, name)


async def test_without_script_the_printout_offers_the_browsers_print_instead_of_a_dead_button(
    browser: Browser, served: str, staff
):
    unit, user = await provider_at_a_unit(staff)
    order = await staff.order(await staff.customer("Ingeborg"), unit)
    context = await browser.new_context(base_url=served, locale="sv-SE", java_script_enabled=False)
    context.set_default_timeout(15_000)
    try:
        page = await context.new_page()
        await sign_in(page, user)
        await page.goto(f"/bestallningar/{order['id']}/skriv-ut?del=text")
        await expect(page.get_by_role("heading", name="Övrigt")).to_be_visible()
        await expect(page.get_by_role("button", name="Skriv ut")).to_be_hidden()
        await expect(page.get_by_text("webbläsarens utskrift (Ctrl+P)")).to_be_visible()
    finally:
        await context.close()
