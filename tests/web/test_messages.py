"""The manual's chapter 6, Meddelanden: a provider shares files with Bosam SÄF, a coordinator
reads and answers, and the provider answers all, forwards, prints and deletes; files the
messaging service would refuse are said at "Bifoga fil" with the rest of the form kept; a
double click on "Skicka" sends one message."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Locator, Page, expect

from services.common.auth import Role
from tests.web.pages import sign_in

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
NOTICE_WAIT_S = 30  # the test stack reminds a unit of an unconfirmed order after 2 s

NewContext = Callable[..., Awaitable[BrowserContext]]


@pytest.fixture
async def new_context(browser: Browser, served: str) -> AsyncIterator[NewContext]:
    """Another browser (a second person, or one without JavaScript), closed after the test."""
    opened: list[BrowserContext] = []

    async def make(**options) -> BrowserContext:
        context = await browser.new_context(
            base_url=served, locale="sv-SE", viewport={"width": 1280, "height": 900}, **options
        )
        context.set_default_timeout(15_000)
        opened.append(context)
        return context

    yield make
    for context in opened:
        await context.close()


def row(page: Page, subject: str) -> Locator:
    """The folder's row of the message with this subject."""
    return page.get_by_role("row").filter(
        has=page.get_by_role("link", name=re.compile(rf"^{re.escape(subject)}$"))
    )


async def to_inbox(page: Page) -> None:
    await (
        page.get_by_role("navigation", name="Meny")
        .get_by_role("link", name=re.compile("^Meddelanden"))
        .click()
    )
    await expect(page.get_by_role("heading", level=1, name="Meddelanden")).to_be_visible()


async def choose_recipient(page: Page, search: str, name: str) -> None:
    """ "Till": search the mailbox, as without script, and tick it."""
    await page.get_by_label("Sök mottagare").fill(search)
    await page.get_by_role("button", name="Sök", exact=True).click()
    await page.get_by_role("checkbox", name=re.compile(rf"^{re.escape(name)}\b")).check()


async def test_a_provider_shares_two_files_with_bosam_who_answers(
    page, staff, axe, shoot, new_context, tmp_path: Path
):
    unit = await staff.unit("Solgläntans äldreboende")
    provider = staff.person(Role.provider, unit["id"], name="Anna Andersson")
    coordinator = staff.person(Role.coordinator, name="Maria Berg")
    await staff.order(await staff.customer("Elsa"), unit)  # unconfirmed: a reminder comes
    subject = f"Genomförandeplan {staff.tag}"
    plan = tmp_path / "genomförandeplan.pdf"
    plan.write_bytes(PDF)
    note = tmp_path / "anteckning.txt"
    note.write_text("Elsa flyttar in på måndag.\n", encoding="utf-8")

    await sign_in(page, provider, unit=unit["name"])
    await to_inbox(page)
    await axe.check(page, "inbox")
    await page.get_by_role("link", name="Nytt meddelande").click()
    await expect(page.get_by_role("heading", name="Nytt meddelande")).to_be_visible()
    await axe.check(page, "new message")

    await choose_recipient(page, "Bosam", "Bosam SÄF")
    await axe.check(page, "recipients found")
    await page.get_by_label("Ämne").fill(subject)
    await page.get_by_label("Meddelande", exact=True).fill("Hej!\n\nHär är Elsas plan.\nAnna")
    await page.get_by_label("Bifoga fil").set_input_files([plan, note])
    await shoot(page, "nytt-meddelande", docs=True)
    await page.get_by_role("button", name="Skicka").click()

    await expect(page.get_by_role("status")).to_have_text("Meddelandet har skickats.")
    await expect(page.get_by_role("heading", level=1, name=subject)).to_be_visible()
    await expect(page.get_by_role("link", name="genomförandeplan.pdf")).to_be_visible()
    await expect(page.get_by_role("link", name="anteckning.txt")).to_be_visible()
    await axe.check(page, "sent message")
    await to_inbox(page)
    await page.get_by_role("link", name="Skickade").click()
    await expect(row(page, subject)).to_contain_text("Bosam SÄF")
    await axe.check(page, "sent folder")

    # the coordinator, in a browser of her own
    other = await (await new_context()).new_page()
    await sign_in(other, coordinator)
    await to_inbox(other)
    await expect(row(other, subject)).to_contain_text("Oläst")
    await expect(row(other, subject)).to_contain_text("Anna Andersson")
    await expect(row(other, subject).locator("strong")).to_have_text(subject)
    await axe.check(other, "coordinator's inbox")
    await shoot(other, "inkorg", docs=True)
    await row(other, subject).get_by_role("link").click()
    await expect(other.get_by_role("heading", level=1, name=subject)).to_be_visible()
    await expect(other.get_by_text("Här är Elsas plan.")).to_be_visible()
    await axe.check(other, "reading")
    await shoot(other, "meddelande")
    async with other.expect_download() as download_info:
        await other.get_by_role("link", name="genomförandeplan.pdf").click()
    download = await download_info.value
    assert download.suggested_filename == "genomförandeplan.pdf"
    assert Path(await download.path()).read_bytes() == PDF

    await other.get_by_role("link", name="Svara", exact=True).click()
    await expect(other.get_by_role("heading", name="Svara", exact=True)).to_be_visible()
    await expect(other.get_by_role("region", name="Ursprungligt meddelande")).to_contain_text(
        "Här är Elsas plan."
    )
    await axe.check(other, "reply form")
    await shoot(other, "svara")
    await other.get_by_role("button", name="Skicka").click()
    await expect(other.get_by_role("alert")).to_contain_text("Skriv ditt svar.")
    await axe.check(other, "reply refused")
    await other.get_by_label("Meddelande", exact=True).fill("Tack, vi har fått planen.")
    await other.get_by_role("button", name="Skicka").click()
    await expect(other.get_by_role("status")).to_have_text("Svaret har skickats.")
    await axe.check(other, "reply sent")

    # the provider reads the answer, answers all, forwards it, prints it, deletes it
    answer = f"Sv: {subject}"
    await to_inbox(page)
    await expect(row(page, answer)).to_contain_text("Oläst")
    await expect(row(page, answer)).to_contain_text("Maria Berg")
    await row(page, answer).get_by_role("link").click()
    await expect(page.get_by_text("Tack, vi har fått planen.")).to_be_visible()
    await expect(page.get_by_text("----- Ursprungligt meddelande -----")).to_be_visible()
    await axe.check(page, "reading the answer")
    answer_url = page.url

    await page.get_by_role("link", name="Svara alla").click()
    await expect(page.get_by_role("heading", name="Svara alla")).to_be_visible()
    await axe.check(page, "reply all form")
    await page.get_by_label("Meddelande", exact=True).fill("Bra, då ses vi på måndag.")
    await page.get_by_role("button", name="Skicka").click()
    await expect(page.get_by_role("status")).to_have_text("Svaret har skickats.")
    await expect(page.get_by_role("definition").filter(has_text="Maria Berg")).to_be_visible()
    await axe.check(page, "reply all sent")

    await page.goto(answer_url)
    await page.get_by_role("link", name="Vidarebefordra").click()
    await expect(page.get_by_role("heading", name="Vidarebefordra")).to_be_visible()
    await axe.check(page, "forward form")
    text = page.get_by_role("textbox", name=re.compile("^Meddelande"))
    await text.fill("För kännedom.")
    await page.get_by_role("button", name="Skicka").click()
    await expect(page.get_by_role("alert")).to_contain_text("Välj minst en mottagare")
    await expect(text).to_have_value("För kännedom.")
    await axe.check(page, "forward refused")
    await choose_recipient(page, "Avgifter", "Avgifter")
    await expect(text).to_have_value("För kännedom.")
    await axe.check(page, "forward recipients found")
    await shoot(page, "vidarebefordra")
    await page.get_by_role("button", name="Skicka").click()
    await expect(page.get_by_role("status")).to_have_text("Meddelandet har vidarebefordrats.")
    await expect(page.get_by_role("heading", level=1, name=f"Vb: {answer}")).to_be_visible()
    await expect(page.get_by_role("definition").filter(has_text="Avgifter")).to_be_visible()
    await axe.check(page, "forwarded")

    await page.goto(answer_url)
    await page.get_by_role("link", name="Skriv ut").click()
    await expect(page.get_by_role("heading", level=1, name=answer)).to_be_visible()
    await expect(page.get_by_text("Tack, vi har fått planen.")).to_be_visible()
    await expect(page.get_by_role("button", name="Skriv ut")).to_be_visible()
    await axe.check(page, "print page")
    await page.emulate_media(media="print")
    await shoot(page, "utskrift")
    await expect(page.get_by_role("button", name="Skriv ut")).to_be_hidden()
    await page.emulate_media(media="screen")

    await page.get_by_role("link", name="Tillbaka till meddelandet").click()
    await page.get_by_role("link", name="Radera").click()
    await expect(page.get_by_role("heading", name="Radera meddelandet")).to_be_visible()
    await axe.check(page, "delete confirmation")
    await shoot(page, "radera")
    await page.get_by_role("button", name="Radera").click()
    await expect(page.get_by_role("status")).to_have_text("Meddelandet har raderats.")
    await expect(page.get_by_role("heading", level=1, name="Meddelanden")).to_be_visible()
    await expect(row(page, answer)).to_have_count(0)
    await axe.check(page, "deleted")

    # the platform's own reminder of the unconfirmed order is in the unit's inbox as such
    reminder = page.get_by_role("row").filter(has=page.get_by_text("Påminnelse", exact=True))
    for _ in range(NOTICE_WAIT_S):
        try:
            await expect(reminder.first).to_be_visible(timeout=1_000)
            break
        except AssertionError:
            await page.reload()
    await expect(reminder.first).to_contain_text("Lifecare")
    await axe.check(page, "inbox with a reminder")
    await page.set_viewport_size({"width": 320, "height": 800})
    await shoot(page, "inkorg-320")
    await page.get_by_role("link", name="Nytt meddelande").click()
    await axe.check(page, "new message at 320 px")
    await shoot(page, "nytt-meddelande-320")


async def write_to_bosam(page: Page, subject: str, body: str) -> None:
    await page.goto("/meddelanden/nytt")
    await choose_recipient(page, "Bosam", "Bosam SÄF")
    await page.get_by_label("Ämne").fill(subject)
    await page.get_by_label("Meddelande", exact=True).fill(body)


async def test_files_the_service_would_refuse_are_said_at_the_field_with_the_form_kept(
    page, staff, axe, shoot, new_context, tmp_path: Path
):
    unit = await staff.unit()
    provider = staff.person(Role.provider, unit["id"], name="Anna Andersson")
    subject = f"Ledigplatsanmälan {staff.tag}"
    program = tmp_path / "program.exe"
    program.write_bytes(b"MZ\x90\x00")
    big = tmp_path / "stor.pdf"
    big.write_bytes(PDF + b"0" * (10 * 1024 * 1024))  # a byte or more over 10 MB
    fake = tmp_path / "plan.pdf"
    fake.write_text("inte en pdf", encoding="utf-8")

    # with script, the field says so as soon as the files are chosen, and nothing is sent
    await sign_in(page, provider, unit=unit["name"])
    await write_to_bosam(page, subject, "Ett rum blir ledigt.")
    files = page.get_by_label("Bifoga fil")
    await files.set_input_files([program, big])
    await expect(files).to_have_accessible_description(re.compile("program.exe går inte"))
    await expect(files).to_have_accessible_description(re.compile("stor.pdf är större än 10 MB"))
    await axe.check(page, "files refused before sending")
    await page.get_by_role("button", name="Skicka").click()
    await expect(files).to_be_focused()
    await expect(page.get_by_role("heading", name="Nytt meddelande")).to_be_visible()

    # without script, the server says the same at the field when the form is sent
    bare = await (await new_context(java_script_enabled=False)).new_page()
    await sign_in(bare, provider, unit=unit["name"])
    await write_to_bosam(bare, subject, "Ett rum blir ledigt.")
    await bare.get_by_label("Bifoga fil").set_input_files([program, big])
    await bare.get_by_role("button", name="Skicka").click()
    summary = bare.get_by_role("alert")
    await expect(summary).to_contain_text("Filen program.exe går inte att bifoga")
    await expect(summary).to_contain_text("Filen stor.pdf är större än 10 MB.")
    files = bare.get_by_label("Bifoga fil")
    await expect(files).to_have_attribute("aria-invalid", "true")
    await expect(files).to_have_accessible_description(re.compile("Välj filerna igen"))
    await expect(bare.get_by_label("Ämne")).to_have_value(subject)
    await expect(bare.get_by_label("Meddelande", exact=True)).to_have_value("Ett rum blir ledigt.")
    await expect(bare.get_by_role("checkbox", name=re.compile("^Bosam SÄF"))).to_be_checked()
    await shoot(bare, "fel-fil")

    # a file whose content is not what its name says is refused by the messaging service
    await bare.get_by_label("Bifoga fil").set_input_files([fake])
    await bare.get_by_role("button", name="Skicka").click()
    await expect(bare.get_by_role("alert")).to_contain_text(
        "Innehållet i filen plan.pdf är inte det som filnamnets ändelse säger."
    )
    await expect(bare.get_by_label("Ämne")).to_have_value(subject)
    await page.goto("/meddelanden/skickade")
    await expect(row(page, subject)).to_have_count(0)
    await axe.check(page, "nothing sent")


async def test_a_double_click_on_skicka_sends_one_message(staff, new_context, tmp_path: Path):
    unit = await staff.unit()
    provider = staff.person(Role.provider, unit["id"])
    subject = f"Avvikelse {staff.tag}"
    note = tmp_path / "avvikelse.txt"
    note.write_text("Fallolycka i korridoren.\n", encoding="utf-8")

    # without script, so that nothing in the page stops the second click (axe, itself a
    # script, cannot run here: these pages are checked with script in the other tests)
    bare = await (await new_context(java_script_enabled=False)).new_page()
    await sign_in(bare, provider, unit=unit["name"])
    await write_to_bosam(bare, subject, "Se bifogad fil.")
    await bare.get_by_label("Bifoga fil").set_input_files([note])
    await bare.get_by_role("button", name="Skicka").dblclick()
    await expect(bare.get_by_role("heading", level=1, name=subject)).to_be_visible()
    await expect(bare.get_by_role("status")).to_have_text("Meddelandet har skickats.")
    message_url = bare.url
    file_url = await bare.get_by_role("link", name="avvikelse.txt").get_attribute("href")

    # Chromium sends a double click's form once; a browser that sends both posts of the
    # same form, at once, gets one message too, and both are shown it
    again = f"{subject} igen"
    await write_to_bosam(bare, again, "Se bifogad fil.")
    fields = {
        name: await bare.locator(
            f"form[action='/meddelanden/nytt'] input[name={name}]"
        ).input_value()
        for name in ("csrf", "form_id", "known")
    }
    form = {
        **fields,
        "to": "group:bosam",
        "subject": again,
        "body": "Se bifogad fil.",
        "action": "send",
        "files": {"name": note.name, "mimeType": "text/plain", "buffer": note.read_bytes()},
    }
    first, second = await asyncio.gather(
        *(bare.request.post("/meddelanden/nytt", multipart=form) for _ in range(2))
    )
    assert first.ok and second.ok
    assert first.url == second.url and re.search(r"/meddelanden/[0-9a-f-]{36}$", first.url)

    await bare.goto("/meddelanden/skickade")
    await expect(row(bare, subject)).to_have_count(1)
    await expect(row(bare, again)).to_have_count(1)

    # someone else, at another unit, finds neither the message nor its file
    stranger = await (await new_context()).new_page()
    await sign_in(stranger, staff.person(Role.provider, (await staff.unit())["id"]))
    for url in (message_url, file_url):
        await stranger.goto(url or "")
        await expect(stranger.get_by_role("heading", name="Sidan finns inte")).to_be_visible()
