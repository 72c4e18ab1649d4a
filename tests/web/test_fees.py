"""The fee administrator: tariffs, a customer's fee decisions, a billing run watched until it
is completed, a held invoice released, the CSV export, and absence by period."""

from __future__ import annotations

import asyncio
import csv
import io
import random
import re
from datetime import date, timedelta
from pathlib import Path

import httpx
from playwright.async_api import expect

from services.common.auth import Role
from services.common.dates import today_in_stockholm as today
from tests.integration.absence.helpers import register
from tests.integration.billing.helpers import billing_knows, known_customer
from tests.web.pages import sign_in

KR = r"[\s\u00a0]*kr"


def menu(page):
    return page.get_by_role("navigation", name="Meny")


async def stay_from(staff, as_, pool, customer: dict, unit: dict, start: date) -> dict:
    """An order of `customer` decided before `start`, confirmed to start on `start` and
    ended with that month, returned once billing knows the stay."""
    order = await staff.order(customer, unit, decided=start - timedelta(days=3))
    async with httpx.AsyncClient(base_url=staff.orders_url, timeout=20) as http:
        confirmed = await http.post(
            f"/orders/{order['id']}/confirm",
            json={"start_date": str(start)},
            headers=as_("provider", unit["id"]),
        )
        assert confirmed.status_code == 200, confirmed.text
        # the stay ends with the month, so the runs of other tests' months leave it alone
        last = (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        ended = await http.post(
            f"/executions/{confirmed.json()['execution_id']}/end",
            json={"end_date": str(last), "reason": "moved_home", "confirmed": True},
            headers=as_("provider", unit["id"]),
        )
        assert ended.status_code == 200, ended.text
    known = "SELECT end_date = $2 FROM billing.stays WHERE order_id = $1::uuid"
    await billing_knows(pool, known, order["id"], last)
    await known_customer(pool, customer["id"])
    return confirmed.json()


async def test_a_billing_run_holds_an_invoice_without_a_fee_decision_until_it_is_released(
    page, staff, axe, shoot, as_, pool
):
    # a month of the last year and a half that no other test bills (runs are per month, for
    # the whole database), well within the bound of how old a decision may be
    back = random.randrange(3, 18)
    this_month = today().year * 12 + today().month - 1
    year, month = divmod(this_month - back, 12)
    month += 1
    period = f"{year}-{month:02d}"
    first = date(year, month, 1)
    unit = await staff.unit("Björkhagens äldreboende")
    customer = await staff.customer("Elvy", f"Sund{staff.tag}")
    await stay_from(staff, as_, pool, customer, unit, first)
    fee_admin = staff.person(Role.fee_admin, name="Fredrik Avgift")
    await sign_in(page, fee_admin)

    # Taxor: the month's food tariff and maxtaxa, after two refusals at their fields
    await menu(page).get_by_role("link", name="Taxor").click()
    await expect(page.get_by_role("heading", level=1, name="Taxor")).to_be_visible()
    await axe.check(page, "Taxor")
    await page.get_by_label("Typ").select_option(label="Kost per månad")
    await page.get_by_label("Belopp per månad").fill("4000,505")
    await page.get_by_label("Gäller från").fill(str(first + timedelta(days=4)))
    await page.get_by_role("button", name="Spara").click()
    amount = page.get_by_label("Belopp per månad")
    await expect(amount).to_have_accessible_description(re.compile("Skriv ett belopp i kronor"))
    await expect(amount).to_have_value("4000,505")
    await amount.fill("4 000,00")
    await page.get_by_role("button", name="Spara").click()
    since = page.get_by_label("Gäller från")
    await expect(since).to_have_accessible_description(
        re.compile("En taxa gäller från den första dagen i en månad")
    )
    await expect(page.get_by_label("Typ")).to_have_value("food")
    await axe.check(page, "Taxor refused")
    await since.fill(str(first))
    await page.get_by_role("button", name="Spara").click()
    await expect(page.get_by_role("status")).to_contain_text("Taxan är sparad.")
    await page.get_by_label("Typ").select_option(label="Maxtaxa omvårdnad per månad")
    await page.get_by_label("Belopp per månad").fill("2660.00")
    await page.get_by_label("Gäller från").fill(str(first))
    await page.get_by_role("button", name="Spara").click()
    food = page.get_by_role("region", name="Kost per månad")
    await expect(food.get_by_role("row").filter(has_text=str(first))).to_contain_text(
        re.compile(r"4\s000,00" + KR)
    )
    care = page.get_by_role("region", name="Maxtaxa omvårdnad per månad")
    await expect(care.get_by_role("row").filter(has_text=str(first))).to_contain_text(
        re.compile(r"2\s660,00" + KR)
    )
    await axe.check(page, "Taxor saved")
    await shoot(page, "taxor")

    # a fee decision above the maxtaxa is refused at its field, so none is made
    await page.goto(f"/avgifter/brukare/{customer['id']}")
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Elvy {customer['last_name']}")
    await page.get_by_label("Omvårdnadsavgift per månad").fill("3000")
    await page.get_by_label("Gäller från", exact=True).fill(str(first))
    await page.get_by_role("button", name="Spara").click()
    fee = page.get_by_label("Omvårdnadsavgift per månad")
    await expect(fee).to_have_accessible_description(re.compile("högre än maxtaxan"))
    await expect(fee).to_have_value("3000")
    await expect(page.get_by_text("Inga avgiftsbeslut.", exact=False)).to_be_visible()
    await axe.check(page, "fee decision refused")

    # the run: a month not ended is refused, then the month is billed and watched until done
    await menu(page).get_by_role("link", name="Faktureringskörningar").click()
    await expect(page.get_by_role("heading", level=1, name="Faktureringskörningar")).to_be_visible()
    await axe.check(page, "Faktureringskörningar")
    field = page.get_by_label("Period")
    await field.fill(f"{month}/{year}")
    await page.get_by_role("button", name="Starta körning").click()
    await expect(field).to_have_accessible_description(re.compile("Skriv perioden som ÅÅÅÅ-MM"))
    await expect(field).to_have_value(f"{month}/{year}")
    await field.fill(today().strftime("%Y-%m"))
    await page.get_by_role("button", name="Starta körning").click()
    await expect(field).to_have_accessible_description(re.compile("Månaden är inte slut"))
    await axe.check(page, "run refused")
    await field.fill(period)
    await page.get_by_role("button", name="Starta körning").dblclick()  # one run only
    await expect(
        page.get_by_role("heading", level=1, name=f"Faktureringskörning {period}")
    ).to_be_visible()
    await axe.check(page, "run page")
    await expect(page.get_by_text("Klar", exact=True)).to_be_visible(timeout=60_000)
    facts = page.get_by_role("main")
    await expect(facts).to_contain_text(re.compile(r"Fakturor\s*1\b"))
    await expect(facts).to_contain_text(re.compile(r"Vilande\s*1\b"))
    await expect(facts).to_contain_text(re.compile(r"Summa\s*4\s000,00" + KR))
    await expect(page.get_by_role("link", name="Uppdatera")).to_have_count(0)
    await axe.check(page, "run completed")
    await shoot(page, "korning-klar", docs=True)

    # while a run is at work its page follows it: shown as running once, it asks for itself
    # and puts the completed status in place
    async def as_running(route):
        if route.request.resource_type != "document":
            await route.continue_()
            return
        answer = await route.fetch()
        html = (await answer.text()).replace(
            '<div id="run" aria-live="polite">',
            '<div id="run" aria-live="polite" data-refresh="1">',
        )
        html = html.replace(">Klar</span>", ">Pågår</span>")
        await route.fulfill(response=answer, body=html)

    await page.route(re.compile(r"/avgifter/korningar/[0-9a-f-]{36}$"), as_running)
    await page.reload()
    await expect(page.get_by_text("Klar", exact=True)).to_be_visible()
    await expect(page.get_by_text("Pågår", exact=True)).to_have_count(0)
    await page.unroute(re.compile(r"/avgifter/korningar/[0-9a-f-]{36}$"))

    # the held invoice: its reason, then released once
    await page.get_by_role("link", name=f"Visa vilande fakturor för {period}").click()
    await expect(page.get_by_label("Status")).to_have_value("held")
    await expect(page.get_by_label("Period")).to_have_value(period)
    row = page.get_by_role("row").filter(has_text=customer["customer_number"])
    await expect(row).to_contain_text("Vilande")
    await axe.check(page, "held invoices")
    await shoot(page, "fakturor")
    await row.get_by_role("link", name=re.compile("^Vilande faktura")).click()
    await expect(page.get_by_role("heading", name="Fakturan är vilande")).to_be_visible()
    await expect(page.get_by_text("Inget avgiftsbeslut för månaden")).to_be_visible()
    await expect(page.get_by_text(f"inget avgiftsbeslut för {period}")).to_be_visible()
    lines = page.get_by_role("table", name="Fakturarader")
    days = (date(year + month // 12, month % 12 + 1, 1) - first).days
    line = lines.get_by_role("row").filter(has_text="Kost")
    await expect(line.get_by_role("cell", name=str(days), exact=True)).to_be_visible()
    await expect(line).to_contain_text(re.compile(r"4\s000,00" + KR))
    await axe.check(page, "held invoice")
    await shoot(page, "vilande-faktura", docs=True)
    await page.get_by_role("button", name="Släpp faktura").dblclick()
    await expect(page.get_by_role("status")).to_contain_text(
        re.compile(r"Fakturan är släppt och utställd med nummer \d{4}-\d{6}")
    )
    await expect(page.get_by_text("Utställd", exact=True)).to_be_visible()
    await expect(page.get_by_role("button", name="Släpp faktura")).to_have_count(0)
    await axe.check(page, "invoice released")

    # the customer's page lists it, and the month's export downloads
    await page.get_by_role("link", name=f"Elvy {customer['last_name']}").click()
    invoices = page.get_by_role("region", name="Fakturor")
    await expect(invoices.get_by_role("row").filter(has_text=period)).to_contain_text("Utställd")
    # the fee decision made now (within the maxtaxa) is listed
    await page.get_by_label("Omvårdnadsavgift per månad").fill("1 500,00")
    await page.get_by_label("Gäller från", exact=True).fill(str(first))
    await page.get_by_role("button", name="Spara").dblclick()
    await expect(page.get_by_role("status")).to_contain_text("Avgiftsbeslutet är sparat.")
    decisions = page.get_by_role("table", name="Avgiftsbeslut")
    await expect(decisions.get_by_role("row").filter(has_text=str(first))).to_have_count(1)
    await expect(decisions).to_contain_text(re.compile(r"1\s500,00" + KR))
    await axe.check(page, "customer's fees")
    await shoot(page, "brukarens-avgifter")
    await page.goto(f"/avgifter/fakturor?period={period}")
    async with page.expect_download() as waiting:
        await page.get_by_role(
            "link", name=f"Ladda ner utställda fakturor för {period} som CSV"
        ).click()
    download = await waiting.value
    assert download.suggested_filename == f"invoices-{period}.csv"
    text = await asyncio.to_thread(Path(await download.path()).read_text, "utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["customer_number"] for r in rows] == [customer["customer_number"]]
    assert rows[0]["line_kind"] == "food" and rows[0]["amount"] == "4000.00"

    # a billed month keeps its tariff
    await menu(page).get_by_role("link", name="Taxor").click()
    await page.get_by_label("Typ").select_option(label="Kost per månad")
    await page.get_by_label("Belopp per månad").fill("4100")
    await page.get_by_label("Gäller från").fill(str(first))
    await page.get_by_role("button", name="Spara").click()
    await expect(page.get_by_label("Gäller från")).to_have_accessible_description(
        re.compile("Månaden är redan fakturerad")
    )
    await expect(page.get_by_label("Belopp per månad")).to_have_value("4100")
    await axe.check(page, "tariff of a billed month refused")


async def test_absence_by_period_shows_the_customer_and_the_days_without_meals(
    page, staff, axe, shoot, as_, web_app
):
    unit = await staff.unit("Almhagens äldreboende")
    customer = await staff.customer("Tyra", f"Ahl{staff.tag}")
    await staff.confirmed(customer, unit, start=today() - timedelta(days=10))
    first, last = today() - timedelta(days=6), today() - timedelta(days=3)
    async with httpx.AsyncClient(base_url=web_app.state.settings.absence_url) as http:
        registered = await register(
            http, as_("provider", unit["id"]), customer["id"], first, last, reason="relatives"
        )
        assert registered.status_code == 201, registered.text
    await sign_in(page, staff.person(Role.fee_admin))

    await menu(page).get_by_role("link", name="Frånvaro", exact=True).click()
    await expect(page.get_by_role("heading", level=1, name="Frånvaro")).to_be_visible()
    await page.get_by_label("Från", exact=True).fill(str(today()))
    await page.get_by_label("Till", exact=True).fill(str(today() - timedelta(days=30)))
    await page.get_by_role("button", name="Visa").click()
    await expect(page.get_by_label("Till", exact=True)).to_have_accessible_description(
        re.compile("Till kan inte vara före Från")
    )
    await axe.check(page, "Frånvaro refused")
    await page.get_by_label("Från", exact=True).fill(str(today() - timedelta(days=30)))
    await page.get_by_label("Till", exact=True).fill(str(today()))
    await page.get_by_role("button", name="Visa").click()
    row = page.get_by_role("row").filter(has_text=customer["customer_number"])
    await expect(row).to_contain_text(f"Tyra {customer['last_name']}")
    await expect(row).to_contain_text("Hos anhöriga")
    await expect(row).to_contain_text(str(first))
    await expect(row.get_by_role("cell", name="4", exact=True)).to_be_visible()
    await axe.check(page, "Frånvaro")
    await shoot(page, "franvaro")

    services = web_app.state.api.base
    absence, services["absence"] = services["absence"], "http://127.0.0.1:9"  # nobody there
    try:
        await page.get_by_role("button", name="Visa").click()
        await expect(page.get_by_role("alert")).to_contain_text(
            "Tjänsten för frånvaro svarar inte just nu"
        )
    finally:
        services["absence"] = absence
    await expect(page.get_by_label("Från", exact=True)).to_have_value(
        str(today() - timedelta(days=30))
    )
    await axe.check(page, "absence not answering")


async def _handle_all_earlier(absence_url: str, fee_admin: dict) -> None:
    """Mark what earlier tests left to handle, so the counts below are this test's own."""
    async with httpx.AsyncClient(base_url=absence_url, timeout=20) as http:
        listed = await http.get("/absences", params={"unhandled": "true"}, headers=fee_admin)
        for absence in listed.json():
            marked = await http.post(f"/absences/{absence['id']}/handled", headers=fee_admin)
            assert marked.status_code in (200, 409), marked.text


async def test_absence_to_handle_is_counted_on_the_start_page_and_marked_handled(
    page, staff, axe, shoot, as_, web_app
):
    absence_url = web_app.state.settings.absence_url
    await _handle_all_earlier(absence_url, as_("fee_admin"))
    unit = await staff.unit("Lindängens äldreboende")
    away = await staff.customer("Svea", f"Borg{staff.tag}")
    back = await staff.customer("Nils", f"Dahl{staff.tag}")
    for customer in (away, back):
        await staff.confirmed(customer, unit, start=today() - timedelta(days=20))
    provider = as_("provider", unit["id"])
    await staff.absence(away, unit, today() - timedelta(days=3))
    changed = await staff.absence(back, unit, today() - timedelta(days=8))
    first_end, second_end = today() - timedelta(days=4), today() - timedelta(days=2)
    async with httpx.AsyncClient(base_url=absence_url, timeout=20) as http:
        for end in (first_end, second_end):  # ended, then its end moved ("Ändra")
            ended = await http.patch(
                f"/absences/{changed['id']}", json={"to_date": str(end)}, headers=provider
            )
            assert ended.status_code == 200, ended.text
    await sign_in(page, staff.person(Role.fee_admin, name="Frida Avgift"))

    # Startsida: the box counts what is to handle and shows it
    box = page.get_by_role("region", name=re.compile("Frånvaro att hantera"))
    await expect(box.get_by_role("heading")).to_have_text("Frånvaro att hantera 2")
    await expect(box.get_by_role("row").filter(has_text=away["last_name"])).to_contain_text(
        "Registrerad"
    )
    await expect(box.get_by_role("row").filter(has_text=back["last_name"])).to_contain_text(
        "Ändrad"
    )
    await axe.check(page, "fee administrator's start page")
    await shoot(page, "startsida-avgifter")

    await expect(box.get_by_role("link", name="Frånvaro att hantera")).to_have_attribute(
        "href", "/avgifter/franvaro/att-hantera"
    )

    # the list, from the menu as from the box: what changed and when, a button per absence
    menu = page.get_by_role("navigation", name="Meny")
    await menu.get_by_role("link", name="Frånvaro att hantera").click()
    await expect(page.get_by_role("heading", level=1, name="Frånvaro att hantera")).to_be_visible()
    await expect(menu.get_by_role("link", name="Frånvaro att hantera")).to_have_attribute(
        "aria-current", "page"
    )
    await expect(menu.get_by_role("link", name="Frånvaro", exact=True)).not_to_have_attribute(
        "aria-current", "page"
    )
    await expect(page.get_by_text("2 ändringar att hantera")).to_be_visible()
    row = page.get_by_role("row").filter(has_text=back["last_name"])
    await expect(row).to_contain_text("Ändrad")
    await expect(row).to_contain_text(f"Till var förut {first_end}")
    await expect(row).to_contain_text(str(second_end))
    await expect(row.get_by_role("cell", name="7", exact=True)).to_be_visible()
    await axe.check(page, "Frånvaro att hantera")
    await shoot(page, "franvaro-att-hantera")

    await page.get_by_role(
        "button", name=re.compile(f"Markera som hanterad frånvaron för .*{away['last_name']}")
    ).click()
    await expect(page.get_by_role("status")).to_contain_text("Frånvaron är markerad som hanterad.")
    await expect(page.get_by_role("row").filter(has_text=away["last_name"])).to_have_count(0)
    await expect(page.get_by_text("1 ändring att hantera")).to_be_visible()
    await axe.check(page, "one marked handled")

    # the provider changes it again while the page is open: the mark is refused, not unseen
    async with httpx.AsyncClient(base_url=absence_url, timeout=20) as http:
        again = await http.patch(
            f"/absences/{changed['id']}", json={"to_date": str(today())}, headers=provider
        )
        assert again.status_code == 200, again.text
    mark_back = page.get_by_role(
        "button", name=re.compile(f"Markera som hanterad frånvaron för .*{back['last_name']}")
    )
    await mark_back.click()
    await expect(page.get_by_role("alert")).to_contain_text(
        "Frånvaron har ändrats sedan du såg den"
    )
    await expect(page.get_by_role("row").filter(has_text=back["last_name"])).to_contain_text(
        f"Till var förut {second_end}"
    )
    await axe.check(page, "changed since it was shown")
    await shoot(page, "franvaro-att-hantera-andrad")

    # a form for an absence that does not exist (a stale or edited page): said on the page
    form = page.locator("form[action$='/hanterad']").first
    await form.evaluate(
        "f => { f.action = f.action.replace(/[0-9a-f-]{36}/, "
        "'00000000-0000-4000-8000-000000000000'); }"
    )
    await mark_back.click()
    await expect(page.get_by_role("alert")).to_contain_text("Frånvaron finns inte.")
    await axe.check(page, "unknown absence")

    await page.set_viewport_size({"width": 320, "height": 640})
    await axe.check(page, "Frånvaro att hantera at 320 px")
    await shoot(page, "franvaro-att-hantera-320")
    await mark_back.click()  # the page shown again carries the new change: marked now
    await expect(page.get_by_text("Ingen frånvaro att hantera.")).to_be_visible()
    await page.goto("/")
    box = page.get_by_role("region", name=re.compile("Frånvaro att hantera"))
    await expect(box.get_by_role("heading")).to_have_text("Frånvaro att hantera 0")
    await expect(box).to_contain_text("Ingen frånvaro att hantera.")
    await axe.check(page, "nothing to handle")
    await shoot(page, "startsida-avgifter-320")
