"""The inbox page: the newest messages of all the caller's mailboxes (their own, their
unit's, their group's), newest first, each once, and unread while unread in any of them."""

from __future__ import annotations

from tests.integration.messaging.helpers import badge, send


async def _page(client, who, limit: int) -> list[tuple[str, bool]]:
    response = await client.get(
        "/messages", params={"folder": "inbox", "limit": limit}, headers=who.headers
    )
    assert response.status_code == 200, response.text
    return [(m["subject"], m["unread"]) for m in response.json()]


async def test_the_page_is_the_newest_of_every_mailbox_each_message_once(
    messaging_http, person, known_unit
):
    anna = person("provider", "Anna Andersson", unit=known_unit)
    karin = person("provider", "Karin Karlsson", unit=known_unit)
    bo = person("coordinator", "Bo Berg")
    unit = f"unit:{known_unit}"
    await badge(messaging_http, anna)  # one can write to Anna once she has used her inbox

    await send(messaging_http, bo, [unit], "1 till enheten")
    await send(messaging_http, bo, [anna.mailbox], "2 till Anna")
    both = await send(messaging_http, bo, [unit, anna.mailbox], "3 till båda")
    await send(messaging_http, bo, [unit], "4 till enheten")
    await send(messaging_http, anna, [unit], "5 från Anna")
    # Karin reads it in the unit's mailbox; in Anna's own it is still unread
    await messaging_http.get(f"/messages/{both['id']}", headers=karin.headers)

    assert await _page(messaging_http, anna, 3) == [
        ("4 till enheten", True),
        ("3 till båda", True),
        ("2 till Anna", True),
    ]
    assert [s for s, _ in await _page(messaging_http, anna, 10)] == [
        "4 till enheten",
        "3 till båda",
        "2 till Anna",
        "1 till enheten",
    ]
    assert await _page(messaging_http, karin, 10) == [
        ("5 från Anna", True),
        ("4 till enheten", True),
        ("3 till båda", False),
        ("1 till enheten", True),
    ]
