"""Races in the inbox end in a clean answer, never a 500 (issue 14, point 4): deleting a
message while its file is attached to a new message, or while the message is forwarded.
Each pair of requests is sent at once (asyncio.gather), many times over; every answer is
one that some order of the two would give, and what is left is consistent: a file a
message carries is there, a file no message carries is gone."""

from __future__ import annotations

import asyncio

from tests.integration.messaging.helpers import badge, send, upload
from tests.unit.messaging.files import PDF

TRIES = 15


async def test_delete_against_attaching_its_file_to_a_new_message(messaging_http, person):
    anna = person("provider", "Anna Andersson", unit="solbacken")
    bo = person("coordinator", "Bo Berg")
    seen: list[tuple[int, int]] = []
    for _ in range(TRIES):
        file = (await upload(messaging_http, anna, "plan.pdf", PDF)).json()
        # a note to herself: once she deletes it, nobody holds it and its file goes with it
        first = await send(messaging_http, anna, [anna.mailbox], "Utkast", "", [file["id"]])

        deleted, sent = await asyncio.gather(
            messaging_http.delete(f"/messages/{first['id']}", headers=anna.headers),
            messaging_http.post(
                "/messages",
                json={
                    "to": ["group:bosam"],
                    "subject": "Plan",
                    "body": "",
                    "attachment_ids": [file["id"]],
                },
                headers=anna.headers,
            ),
        )
        seen.append((deleted.status_code, sent.status_code))

        assert deleted.status_code == 204, deleted.text
        got = await messaging_http.get(f"/attachments/{file['id']}", headers=bo.headers)
        if sent.status_code == 201:  # the new message came first: it keeps the file
            assert [a["id"] for a in sent.json()["attachments"]] == [file["id"]]
            assert got.status_code == 200 and got.content == PDF
        else:  # the deletion came first: the file is gone, as sending it later would find
            assert sent.status_code in (409, 422), sent.text
            assert sent.json()["error"]["code"] in ("unknown_attachment", "attachment_deleted")
            assert got.status_code == 404
    print(f"delete against attach, {TRIES} tries (delete, send): {sorted(set(seen))}")


async def test_delete_against_forwarding_the_message(messaging_http, person):
    anna = person("provider", "Anna Andersson", unit="solbacken")
    bo = person("coordinator", "Bo Berg")
    cecilia = person("caseworker", "Cecilia Carlsson")
    for someone in (bo, cecilia):  # known to the directory once they have used the inbox
        await badge(messaging_http, someone)
    seen: list[tuple[int, int]] = []
    for _ in range(TRIES):
        file = (await upload(messaging_http, anna, "plan.pdf", PDF)).json()
        first = await send(messaging_http, anna, [bo.mailbox], "Plan", "", [file["id"]])
        gone = await messaging_http.delete(f"/messages/{first['id']}", headers=anna.headers)
        assert gone.status_code == 204  # from her sent folder: Bo holds the last copy

        deleted, forwarded = await asyncio.gather(
            messaging_http.delete(f"/messages/{first['id']}", headers=bo.headers),
            messaging_http.post(
                f"/messages/{first['id']}/forward",
                json={"to": [cecilia.mailbox], "body": "Se bifogad fil."},
                headers=bo.headers,
            ),
        )
        seen.append((deleted.status_code, forwarded.status_code))

        assert deleted.status_code in (204, 404), deleted.text
        got = await messaging_http.get(f"/attachments/{file['id']}", headers=cecilia.headers)
        if forwarded.status_code == 201:
            assert [a["id"] for a in forwarded.json()["attachments"]] == [file["id"]]
            assert got.status_code == 200 and got.content == PDF
        else:  # the message was gone first: as forwarding a deleted message is
            assert forwarded.status_code in (404, 409), forwarded.text
            assert got.status_code == 404
    print(f"delete against forward, {TRIES} tries (delete, forward): {sorted(set(seen))}")
