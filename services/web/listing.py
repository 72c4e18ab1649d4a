"""The web UI's side of the services' keyset pages: a list page shows one page and links
"Nästa sida" (the service's opaque cursor in the page's own URL, as `efter`) and "Första
sidan"; a list that a page shows whole is read by following every next link."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from services.web.pages import Page

PICKER_ROWS = 50  # the customers a search to choose from shows; it asks for more text beyond
WHOLE = 500  # the page size a list read whole asks for: the services' largest common bound


@dataclass(frozen=True)
class Slice:
    """One page of a service's list and the cursor of the next (None on the last)."""

    rows: list[Any]
    next_cursor: str | None
    total: int | None  # X-Total-Count, where the list gives it


def _next_cursor(answer: httpx.Response) -> str | None:
    link = answer.links.get("next")
    return None if link is None else httpx.URL(link["url"]).params.get("cursor")


async def one_page(
    page: Page, service: str, path: str, *, efter: str | None = None, **params: Any
) -> Slice:
    """The page of the list that starts at the cursor `efter` (None: the first page)."""
    answer = await page.api.call(
        service, "GET", path, page.token, params={**params, "cursor": efter or None}
    )
    total = answer.headers.get("x-total-count")
    return Slice(answer.json(), _next_cursor(answer), int(total) if total else None)


async def every_row(page: Page, service: str, path: str, **params: Any) -> list[Any]:
    """Every row of the list, page after page, for a page that shows it whole."""
    rows: list[Any] = []
    cursor: str | None = None
    while True:
        found = await one_page(page, service, path, efter=cursor, **params)
        rows.extend(found.rows)
        if found.next_cursor is None:
            return rows
        cursor = found.next_cursor


def link(path: str, *, efter: str | None = None, **params: Any) -> str:
    """The URL of a list page with its filters and, past the first page, its cursor."""
    kept = {name: value for name, value in params.items() if value not in (None, "")}
    if efter:
        kept["efter"] = efter
    return f"{path}?{urlencode(kept)}" if kept else path


def links(path: str, found: Slice, efter: str | None, **params: Any) -> dict[str, Any]:
    """The template's `next_url` and `first_url` of a list page."""
    return {
        "next_url": link(path, efter=found.next_cursor, **params) if found.next_cursor else None,
        "first_url": link(path, **params) if efter else None,
    }
