"""The inbox and the sent folder come a page at a time, newest first, behind a `Link`
header: a walk shows every message once, also when messages arrive between two pages."""

from __future__ import annotations

from tests.integration.messaging.helpers import send
from tests.integration.paging import cursor_of, ids_of, tampered, walk


async def test_a_walk_over_the_inbox_shows_each_message_once_while_mail_arrives(
    messaging_http, person
):
    anna = person("provider", "Anna Andersson", unit="solbacken")
    vera = person("caseworker", "Vera Viklund")
    await messaging_http.get("/messages", headers=vera.headers)  # the service learns of her
    sent = [
        (await send(messaging_http, anna, [vera.mailbox], f"Meddelande {n}"))["id"]
        for n in range(7)
    ]
    arrived: list[str] = []

    async def more(page: int) -> None:
        arrived.append((await send(messaging_http, anna, [vera.mailbox], f"Ny {page}"))["id"])

    pages = await walk(
        messaging_http,
        "/messages",
        headers=vera.headers,
        params={"folder": "inbox", "limit": 3},
        between=more,
    )
    mine = [m for m in ids_of(pages) if m in set(sent) | set(arrived)]
    # newest first, each once; what arrived during the walk is newer than the first page,
    # so it is not slipped into a later one (the next visit's first page shows it)
    assert mine == sent[::-1]
    assert len(ids_of(pages)) == len(set(ids_of(pages)))

    sent_pages = await walk(
        messaging_http, "/messages", headers=anna.headers, params={"folder": "sent", "limit": 4}
    )
    in_sent = [m for m in ids_of(sent_pages) if m in set(sent) | set(arrived)]
    assert in_sent == (sent + arrived)[::-1]


async def test_a_folders_page_size_and_cursor_are_checked(messaging_http, person):
    anna = person("provider", "Anna Andersson", unit="solbacken")
    for n in range(2):
        await send(messaging_http, anna, ["group:bosam"], f"Rapport {n}")
    refused = await messaging_http.get(
        "/messages", params={"folder": "sent", "limit": 501}, headers=anna.headers
    )
    assert refused.status_code == 422
    [problem] = refused.json()["detail"]
    assert problem["loc"] == ["query", "limit"] and "500" in problem["msg"]

    first = await messaging_http.get(
        "/messages", params={"folder": "sent", "limit": 1}, headers=anna.headers
    )
    cursor = cursor_of(first)
    for params in (
        {"folder": "sent", "cursor": tampered(cursor)},
        {"folder": "inbox", "cursor": cursor},  # the sent folder's cursor in the inbox
    ):
        answer = await messaging_http.get("/messages", params=params, headers=anna.headers)
        assert answer.status_code == 400, params
        assert answer.json()["error"]["code"] == "cursor_invalid"
