"""A list page shows one page and "Nästa sida" while more follow, and "Första sidan" back:
the inbox of a person with more messages than one page, walked with and without script."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import Page, expect

from services.common.auth import Role
from services.web.messages import MESSAGES_PER_PAGE
from tests.web.pages import sign_in

MORE = 3  # messages beyond the first page


async def _walk_to_the_second_page(page: Page, newest: str, oldest: str) -> None:
    await page.goto("/meddelanden")
    table = page.get_by_role("table")
    await expect(table.get_by_role("link", name=newest, exact=True)).to_be_visible()
    await expect(table.get_by_role("link", name=oldest, exact=True)).to_have_count(0)
    await expect(table.locator("tbody tr")).to_have_count(MESSAGES_PER_PAGE)
    pages = page.get_by_role("navigation", name="Sidor")
    await expect(pages.get_by_role("link", name="Första sidan")).to_have_count(0)
    await pages.get_by_role("link", name="Nästa sida").click()

    await expect(table.get_by_role("link", name=oldest, exact=True)).to_be_visible()
    await expect(table.get_by_role("link", name=newest, exact=True)).to_have_count(0)
    await expect(table.locator("tbody tr")).to_have_count(MORE)
    await expect(pages.get_by_role("link", name="Nästa sida")).to_have_count(0)


async def test_the_inbox_goes_to_its_second_page_and_back(staff, page, axe, browser, served):
    unit = await staff.unit()
    user = staff.person(Role.provider, unit["id"])
    await sign_in(page, user)  # the messaging service learns of the person
    sender = staff.as_("coordinator", sub=f"bo-{staff.tag}")
    async with httpx.AsyncClient(base_url=staff.messaging_url, timeout=20) as http:
        for n in range(MESSAGES_PER_PAGE + MORE):
            sent = await http.post(
                "/messages",
                json={"to": [f"user:{user}"], "subject": f"Meddelande {n:02}", "body": ""},
                headers=sender,
            )
            assert sent.status_code == 201, sent.text
    newest, oldest = f"Meddelande {MESSAGES_PER_PAGE + MORE - 1:02}", "Meddelande 00"

    await _walk_to_the_second_page(page, newest, oldest)
    await axe.check(page, "the inbox's second page")
    await (
        page.get_by_role("navigation", name="Sidor")
        .get_by_role("link", name="Första sidan")
        .click()
    )
    await expect(page).to_have_url(re.compile(r"/meddelanden$"))
    await expect(page.get_by_role("link", name=newest, exact=True)).to_be_visible()
    await axe.check(page, "the inbox's first page again")

    # the same walk without script: the links are plain links
    context = await browser.new_context(base_url=served, locale="sv-SE", java_script_enabled=False)
    try:
        scriptless = await context.new_page()
        await sign_in(scriptless, user)
        await _walk_to_the_second_page(scriptless, newest, oldest)
    finally:
        await context.close()
