"""Steps that many browser tests take, by the labels a person reads."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.async_api import Page, expect

from tests.web.data import people_ready


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


async def sign_in(page: Page, user: str, *, unit: str | None = None, role: str | None = None):
    """Sign in as a person at the development identity provider, choose role and unit, and
    land on the start page."""
    await people_ready()  # the memberships of the people the test made
    await page.goto("/")  # on to the provider's sign-in page
    provider = origin(page.url)
    await page.get_by_label("Användare", exact=True).fill(user)
    await page.get_by_role("button", name="Logga in").click()
    # is_visible does not wait: first let the next page (the choice, or the start) load
    await page.wait_for_url(lambda url: origin(url) != provider and "/logga-in" not in url)
    if await page.get_by_role("heading", name="Välj roll och enhet").is_visible():
        if role:
            await page.get_by_label("Roll").select_option(label=role)
        if unit:
            await page.get_by_label("Enhet").select_option(label=unit)
        await page.get_by_role("button", name="Fortsätt").click()
    await expect(page.get_by_role("heading", level=1)).to_be_visible()
