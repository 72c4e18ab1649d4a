"""Walking a list by its `Link: <...>; rel="next"` headers, as a client does."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx


async def walk(
    client: httpx.AsyncClient,
    path: str,
    *,
    headers: dict[str, str],
    params: dict[str, Any],
    between: Callable[[int], Awaitable[None]] | None = None,
) -> list[list[dict]]:
    """Every page of a list, following its next links; `between(n)` runs after page n."""
    pages: list[list[dict]] = []
    response = await client.get(path, params=params, headers=headers)
    while True:
        assert response.status_code == 200, response.text
        pages.append(response.json())
        link = response.links.get("next")
        if link is None:
            return pages
        assert len(pages) < 100, "the next links do not end"
        if between is not None:
            await between(len(pages))
        response = await client.get(link["url"], headers=headers)


def ids_of(pages: list[list[dict]]) -> list[str]:
    return [row["id"] for page in pages for row in page]


def tampered(cursor: str) -> str:
    """The cursor with one character changed, as a hand in the URL bar would."""
    middle = len(cursor) // 2
    return cursor[:middle] + ("A" if cursor[middle] != "A" else "B") + cursor[middle + 1 :]


def cursor_of(response: httpx.Response) -> str:
    """The cursor in a page's next link."""
    url = httpx.URL(response.links["next"]["url"])
    return url.params["cursor"]
