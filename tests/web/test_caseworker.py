"""The caseworker: register a customer, send an order that the unit's provider sees on the
Startsida, withdraw an order, and the decisions not executed within three months (IVO)."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import httpx
from playwright.async_api import expect

from services.common.auth import Role
from services.common.dates import today_in_stockholm as today
from tests.integration import helpers, personal_data
from tests.web.pages import sign_in

UUID = r"[0-9a-f-]{36}"


def menu(page):
    return page.get_by_role("navigation", name="Meny")


async def test_a_new_customer_and_order_reach_the_providers_start_page(
    page, browser, served, staff, axe, shoot
):
    unit = await staff.unit("Tallbackens äldreboende")
    caseworker = staff.person(Role.caseworker, name="Cecilia Berg")
    provider = staff.person(Role.provider, unit["id"], name="Anna Andersson")
    last_name = f"Holm{staff.tag}"
    await sign_in(page, caseworker)

    await menu(page).get_by_role("link", name="Ny brukare").click()
    await expect(page.get_by_role("heading", level=1, name="Ny brukare")).to_be_visible()
    await axe.check(page, "Ny brukare")
    await page.get_by_label("Personnummer").fill("19121212-1213")  # a wrong check digit
    await page.get_by_label("Förnamn").fill("Ingrid")
    await page.get_by_label("Efternamn").fill(last_name)
    await page.get_by_role("button", name="Spara").click()
    summary = page.get_by_role("alert")
    await expect(summary).to_contain_text("Kontrollsiffran stämmer inte")
    await expect(summary).to_be_focused()
    number = page.get_by_label("Personnummer")
    await expect(number).to_have_attribute("aria-invalid", "true")
    await expect(number).to_have_accessible_description(re.compile("Kontrollsiffran"))
    await expect(number).to_have_value("19121212-1213")
    await expect(page.get_by_label("Efternamn")).to_have_value(last_name)
    await axe.check(page, "Ny brukare refused")
    await shoot(page, "ny-brukare-fel")

    personnummer = helpers.test_personnummer()
    personal_data.remember(
        {"personnummer": personnummer, "first_name": "Ingrid", "last_name": last_name}
    )
    await number.fill(f"{personnummer[2:8]}-{personnummer[8:]}")  # ten digits, as on paper
    await page.get_by_role("button", name="Spara").click()
    notice = page.get_by_role("status").filter(has_text="kundnummer")
    await expect(notice).to_contain_text(f"Ingrid {last_name} är registrerad med kundnummer")
    await axe.check(page, "customer registered")
    await shoot(page, "ny-brukare-klar")

    await notice.get_by_role("link", name=f"Ny beställning för Ingrid {last_name}").click()

    await expect(page.get_by_role("heading", level=1, name="Ny beställning")).to_be_visible()
    await expect(page.get_by_role("radio", name=re.compile(last_name))).to_be_checked()
    await page.get_by_label("Enhet").select_option(label=unit["name"])
    await page.get_by_label("Beslutsdatum").fill(str(today() - timedelta(days=2)))
    await page.get_by_role("button", name="Skicka beställning").click()
    await expect(page.get_by_role("alert")).to_contain_text(
        "Beskriv minst ett behov under Behov och mål, eller skriv under Övrigt."
    )
    text = page.get_by_label("Övrigt")
    await expect(text).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_label("Enhet")).to_have_value(unit["id"])
    await expect(page.get_by_role("radio", name=re.compile(last_name))).to_be_checked()
    await axe.check(page, "Ny beställning refused")
    await text.fill("Beviljas särskilt boende. Behöver hjälp vid förflyttning.")
    await shoot(page, "ny-bestallning", docs=True)
    await page.get_by_role("button", name="Skicka beställning").dblclick()  # one order only
    await expect(page).to_have_url(re.compile(rf"/bestallningar/{UUID}$"))

    # the provider of the unit, in a browser of her own, finds it on her Startsida
    other = await browser.new_context(base_url=served, locale="sv-SE")
    try:
        provider_page = await other.new_page()
        await sign_in(provider_page, provider)
        box = provider_page.get_by_role("region", name=re.compile("Ej bekräftade beställningar"))
        await expect(box.get_by_role("link", name=f"Ingrid {last_name}")).to_be_visible()
        await expect(box.get_by_role("heading")).to_contain_text("1")
        await axe.check(provider_page, "provider's start page")
    finally:
        await other.close()

    # the same personnummer again is refused at the field
    await menu(page).get_by_role("link", name="Ny brukare").click()
    await number.fill(personnummer)
    await page.get_by_label("Förnamn").fill("Inga")
    await page.get_by_label("Efternamn").fill(last_name)
    await page.get_by_role("button", name="Spara").click()
    await expect(number).to_have_accessible_description(
        re.compile("Det finns redan en brukare med det personnumret")
    )
    await expect(page.get_by_label("Förnamn")).to_have_value("Inga")
    await axe.check(page, "customer exists")


async def test_a_caseworker_withdraws_an_order_and_a_confirmed_one_is_refused(
    page, staff, axe, shoot, as_
):
    unit = await staff.unit("Ekbackens äldreboende")
    caseworker = staff.person(Role.caseworker)
    customer = await staff.customer("Sture", f"Berg{staff.tag}")
    await sign_in(page, caseworker)

    # an order sent with the search for the customer, then withdrawn
    await menu(page).get_by_role("link", name="Ny beställning").click()
    await page.get_by_label("Sök brukare").fill(customer["last_name"])
    await page.get_by_role("button", name="Sök", exact=True).click()
    choice = page.get_by_role("radio", name=re.compile(customer["last_name"]))
    await expect(choice).to_be_visible()
    await axe.check(page, "customer found")
    await choice.check()
    await page.get_by_label("Enhet").select_option(label=unit["name"])
    await page.get_by_label("Beslutsdatum").fill(str(today() - timedelta(days=1)))
    await page.get_by_label("Övrigt").fill("Beviljas särskilt boende.")
    await page.get_by_role("button", name="Skicka beställning").click()
    await expect(page).to_have_url(re.compile(rf"/bestallningar/{UUID}$"))
    order_id = page.url.rsplit("/", 1)[1]

    await page.goto(f"/bestallningar/{order_id}/aterkalla")
    await expect(page.get_by_role("heading", level=1, name="Återkalla beställning")).to_be_visible()
    await axe.check(page, "Återkalla beställning")
    await page.get_by_role("button", name="Återkalla").click()
    await expect(page.get_by_label("Orsak")).to_have_accessible_description(
        re.compile("Fyll i fältet.")
    )
    await page.get_by_label("Orsak").fill("Brukaren har tackat nej till platsen.")
    await page.get_by_role("button", name="Återkalla").click()
    await expect(page.get_by_role("status")).to_contain_text("Beställningen är återkallad.")
    await expect(page.get_by_text("Återkallad", exact=True)).to_be_visible()
    await expect(page.get_by_text("Brukaren har tackat nej till platsen.")).to_be_visible()
    await expect(page.get_by_role("button", name="Återkalla")).to_have_count(0)
    await axe.check(page, "order withdrawn")
    await shoot(page, "aterkallad")

    # an order the provider confirms while the caseworker has the page open is refused
    order = await staff.order(customer, unit)
    await page.goto(f"/bestallningar/{order['id']}/aterkalla")
    async with httpx.AsyncClient(base_url=staff.orders_url) as http:
        confirmed = await http.post(
            f"/orders/{order['id']}/confirm",
            json={"start_date": str(today() + timedelta(days=7))},
            headers=as_("provider", unit["id"]),
        )
        assert confirmed.status_code == 200, confirmed.text
    await page.get_by_label("Orsak").fill("Fel enhet.")
    await page.get_by_role("button", name="Återkalla").click()
    await expect(page.get_by_role("alert")).to_contain_text(
        "har bekräftats av utföraren och kan inte längre återkallas"
    )
    await expect(page.get_by_text("Bekräftad", exact=True)).to_be_visible()
    await axe.check(page, "withdrawal refused")


async def test_the_ivo_report_lists_old_decisions_and_downloads_as_csv(page, staff, axe, shoot):
    unit = await staff.unit("Lindgårdens äldreboende")
    caseworker = staff.person(Role.caseworker)
    customer = await staff.customer("Maj", f"Ek{staff.tag}")
    decided = today() - timedelta(days=100)
    await staff.order(customer, unit, decided=decided)
    await sign_in(page, caseworker)

    await menu(page).get_by_role("link", name="Ej verkställda beslut").click()
    await expect(page.get_by_role("heading", level=1, name="Ej verkställda beslut")).to_be_visible()
    row = page.get_by_role("row").filter(has_text=customer["customer_number"])
    await expect(row).to_contain_text(f"Maj {customer['last_name']}")
    await expect(row).to_contain_text(unit["name"])
    await expect(row).to_contain_text(str(decided))
    await expect(row.get_by_role("cell", name="100", exact=True)).to_be_visible()
    await axe.check(page, "IVO report")
    await shoot(page, "ej-verkstallda", docs=True)

    async with page.expect_download() as waiting:
        await page.get_by_role("link", name="Ladda ner som CSV").click()
    download = await waiting.value
    assert download.suggested_filename == f"ej-verkstallda-beslut-{today()}.csv"
    raw = await asyncio.to_thread(Path(await download.path()).read_bytes)
    assert raw.startswith(b"\xef\xbb\xbf")  # a byte order mark: Excel reads it as UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:4] == ["Kundnummer", "Brukare", "Enhet", "Insats"]
    [ours] = [r for r in rows if r[0] == customer["customer_number"]]
    assert ours[1:] == [
        f"Maj {customer['last_name']}",
        unit["name"],
        "SoL – Boende",
        str(decided),
        "",
        "100",
    ]


async def test_a_service_that_does_not_answer_keeps_what_was_typed(page, staff, axe, web_app):
    await sign_in(page, staff.person(Role.caseworker))
    await menu(page).get_by_role("link", name="Ny brukare").click()
    await page.get_by_label("Personnummer").fill("19121212-1212")
    await page.get_by_label("Förnamn").fill("Tolvan")
    await page.get_by_label("Efternamn").fill("Tolvansson")
    services = web_app.state.api.base
    orders, services["orders"] = services["orders"], "http://127.0.0.1:9"  # nobody there
    try:
        await page.get_by_role("button", name="Spara").click()
        await expect(page.get_by_role("alert")).to_contain_text(
            "Tjänsten för beställningar och brukare svarar inte just nu"
        )
    finally:
        services["orders"] = orders
    await expect(page.get_by_label("Personnummer")).to_have_value("19121212-1212")
    await expect(page.get_by_label("Efternamn")).to_have_value("Tolvansson")
    await axe.check(page, "orders not answering")


async def test_a_caseworker_sends_an_order_in_parts_and_the_provider_reads_them(
    page, browser, served, staff, axe, shoot
):
    unit = await staff.unit()
    provider = staff.person(Role.provider, unit["id"], name="Anna Andersson")
    customer = await staff.customer("Elsa", f"Holm{staff.tag}")
    caseworker = staff.person(Role.caseworker)
    street, daughter, son = (
        f"Exempelgatan {staff.tag}",
        f"Karin Holm{staff.tag}",
        f"Olle Holm{staff.tag}",
    )
    personal_data.remember_also(customer, street, daughter, son)
    await sign_in(page, caseworker)
    await page.goto(f"/bestallningar/ny?brukare={customer['id']}")
    decided = today() - timedelta(days=2)

    await page.get_by_label("Enhet").select_option(label=unit["name"])
    await page.get_by_label("Beslutsdatum").fill(str(decided))
    decision = page.get_by_role("group", name="Beslut", exact=True)
    await expect(decision.get_by_label("Insats enligt beslutet")).to_have_value(
        "Särskilt boende för äldre"
    )
    await expect(decision.get_by_label("Lagrum")).to_have_value("4 kap. 1 § SoL")
    # one part "Brukare", as the order page and the printout name it: who, where, phone
    the_customer = page.get_by_role("group", name="Brukare", exact=True)
    await expect(
        the_customer.get_by_role("radio", name=re.compile(customer["last_name"]))
    ).to_be_checked()
    await expect(page.get_by_role("group", name="Kund", exact=True)).to_have_count(0)
    await the_customer.get_by_label("Gatuadress").fill(street)
    await the_customer.get_by_label("Postnummer").fill("136 40")
    await the_customer.get_by_label("Ort").fill("Haninge")
    await the_customer.get_by_label("Telefon").fill("070-174 06 05")

    # two contacts fit the blank rows; "Lägg till kontaktperson" gives a third, keeping both
    first = page.get_by_role("group", name="Kontaktperson 1")
    await first.get_by_label("Namn").fill(daughter)
    await first.get_by_label("Relation").fill("Dotter")
    await first.get_by_label("Telefon").fill("070-174 06 06")
    second = page.get_by_role("group", name="Kontaktperson 2")
    await second.get_by_label("Namn").fill(son)
    await second.get_by_label("Relation").fill("Son")
    await second.get_by_label("Telefon").fill("ring på kvällen")  # no phone number
    await page.get_by_role("button", name="Lägg till kontaktperson").click()
    third = page.get_by_role("group", name="Kontaktperson 3")
    await expect(third.get_by_label("Namn")).to_have_value("")
    await expect(first.get_by_label("Namn")).to_have_value(daughter)
    await expect(the_customer.get_by_label("Gatuadress")).to_have_value(street)

    need = page.get_by_role("group", name="Behov 1")
    await need.get_by_label("Livsområde").select_option(label="Personlig vård")
    await need.get_by_label(re.compile(r"^Behov \(")).fill("Behöver hjälp med dusch.")
    await need.get_by_label("Mål").fill("Känner sig ren och välklädd.")
    other = page.get_by_role("group", name="Behov 2")
    await other.get_by_label("Livsområde").select_option(label="Hemliv")
    await other.get_by_label(re.compile(r"^Behov \(")).fill("Klarar inte att städa själv.")
    await axe.check(page, "an order in parts, filled in")
    await shoot(page, "ny-bestallning-i-delar", docs=True)
    await page.get_by_role("button", name="Skicka beställning").click()

    # refused at their fields, everything typed kept: a phone that is none, a goal missing
    summary = page.get_by_role("alert")
    await expect(summary).to_be_focused()
    phone = page.get_by_role("group", name="Kontaktperson 2").get_by_label("Telefon")
    await expect(phone).to_have_attribute("aria-invalid", "true")
    await expect(phone).to_have_accessible_description(re.compile("7–15 siffror"))
    await expect(phone).to_have_value("ring på kvällen")
    goal = page.get_by_role("group", name="Behov 2").get_by_label("Mål")
    await expect(goal).to_have_accessible_description(re.compile("Fyll i fältet."))
    await expect(page.get_by_role("group", name="Behov 1").get_by_label("Mål")).to_have_value(
        "Känner sig ren och välklädd."
    )
    await axe.check(page, "an order in parts, refused")
    await shoot(page, "ny-bestallning-i-delar-fel")
    async with staff.api() as http:
        sent = await http.get(
            "/orders", params={"unit_id": unit["id"]}, headers=staff.as_("caseworker")
        )
    assert sent.json() == []  # nothing was stored

    await phone.fill("070-174 06 07")
    await goal.fill("Hemmet är städat varje vecka.")
    await page.get_by_role("button", name="Skicka beställning").click()
    await expect(page).to_have_url(re.compile(rf"/bestallningar/{UUID}$"))
    order_id = page.url.rsplit("/", 1)[1]

    # the unit's provider reads the parts on the order page
    other_context = await browser.new_context(base_url=served, locale="sv-SE")
    try:
        theirs = await other_context.new_page()
        await sign_in(theirs, provider)
        await theirs.goto(f"/bestallningar/{order_id}")
        main = theirs.get_by_role("main")
        for region, shown in (
            ("Brukare", f"{street}136 40 Haninge"),
            ("Insats och beslut", "4 kap. 1 § SoL"),
            ("Insats och beslut", f"Gäller från{decided}"),
            ("Kontaktpersoner", f"{daughter}, Dotter · telefon 070-174 06 06"),
            ("Kontaktpersoner", f"{son}, Son · telefon 070-174 06 07"),
            ("Behov och mål", "Hemmet är städat varje vecka."),
            ("Övrigt", "Inget övrigt angivet."),
        ):
            await expect(main.get_by_role("region", name=region)).to_contain_text(shown)
        await expect(
            main.get_by_role("region", name="Behov och mål").get_by_role("heading", level=3)
        ).to_have_text(["Personlig vård", "Hemliv"])
        await axe.check(theirs, "the provider reads an order in parts")
    finally:
        await other_context.close()


async def test_the_order_form_at_320_px_shows_the_parts_without_sideways_scrolling(
    browser, served, staff, axe, shoot
):
    caseworker = staff.person(Role.caseworker)
    context = await browser.new_context(
        base_url=served, locale="sv-SE", viewport={"width": 320, "height": 640}
    )
    context.set_default_timeout(15_000)
    try:
        page = await context.new_page()
        await sign_in(page, caseworker)
        await page.goto("/bestallningar/ny")
        await expect(page.get_by_role("group", name="Behov 2")).to_be_visible()
        wide = await page.evaluate(
            "() => [document.documentElement.scrollWidth, window.innerWidth]"
        )
        assert wide[0] <= wide[1], f"the order form scrolls sideways: {wide}"
        await axe.check(page, "the order form at 320 px")
        await shoot(page, "ny-bestallning-320px")
    finally:
        await context.close()
