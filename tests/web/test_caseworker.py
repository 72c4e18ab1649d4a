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
    await expect(page.get_by_role("alert")).to_contain_text("Skriv beställningstexten.")
    text = page.get_by_label("Beställningstext")
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
    await page.get_by_label("Beställningstext").fill("Beviljas särskilt boende.")
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
