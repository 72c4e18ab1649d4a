"""Chapter 6 of the manual over HTTP: share a plan, report a vacancy or a deviation to
Bosam SÄF, answer, forward, the badge, delete, print; real PostgreSQL and RabbitMQ."""

from __future__ import annotations

import uuid

from tests.integration.conftest import wait_for
from tests.integration.messaging.helpers import badge, inbox, send, upload
from tests.unit.messaging.files import DOCX, PDF

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


async def test_a_provider_shares_a_genomforandeplan_with_bosam_saf(
    messaging_http, person, known_unit
):
    anna = person("provider", "Anna Andersson", unit=known_unit)
    bo = person("coordinator", "Bo Berg")
    bodil = person("coordinator", "Bodil Björk")
    before = await badge(messaging_http, bo)

    # Till: search Bosam SÄF
    found = await messaging_http.get("/mailboxes", params={"q": "bosam"}, headers=anna.headers)
    assert {"id": "group:bosam", "name": "Bosam SÄF", "kind": "group"} in found.json()

    # Bifoga fil, then Skicka
    uploaded = await upload(messaging_http, anna, "Genomförandeplan.docx", DOCX)
    assert uploaded.status_code == 201, uploaded.text
    plan = uploaded.json()
    assert plan["content_type"] == DOCX_TYPE and plan["size"] == len(DOCX)
    sent = await send(
        messaging_http,
        anna,
        ["group:bosam"],
        "Genomförandeplan",
        "Genomförandeplanen för vår nya kund, se bifogad fil.",
        [plan["id"]],
    )
    assert sent["to"] == [{"id": "group:bosam", "name": "Bosam SÄF"}]
    assert sent["sender"] == {"id": anna.mailbox, "name": "Anna Andersson"}
    assert [a["filename"] for a in sent["attachments"]] == ["Genomförandeplan.docx"]

    # every coordinator sees it, unread, with the badge one up
    assert await badge(messaging_http, bo) == before + 1
    listed = (await inbox(messaging_http, bo))[sent["id"]]
    assert listed["unread"] and listed["attachment_count"] == 1
    assert listed["sender"]["name"] == "Anna Andersson"

    # Bo opens it and the file; it is read for the whole Bosam SÄF mailbox
    opened = await messaging_http.get(f"/messages/{sent['id']}", headers=bo.headers)
    assert opened.status_code == 200
    assert opened.json()["body"] == "Genomförandeplanen för vår nya kund, se bifogad fil."
    file = await messaging_http.get(f"/attachments/{plan['id']}", headers=bo.headers)
    assert file.status_code == 200 and file.content == DOCX
    assert file.headers["content-type"] == DOCX_TYPE
    assert "Genomf%C3%B6randeplan.docx" in file.headers["content-disposition"]
    assert await badge(messaging_http, bo) == before
    assert not (await inbox(messaging_http, bodil))[sent["id"]]["unread"]

    # Anna finds it among what she sent, not in her own inbox
    sent_folder = await messaging_http.get(
        "/messages", params={"folder": "sent"}, headers=anna.headers
    )
    assert sent["id"] in [m["id"] for m in sent_folder.json()]
    assert sent["id"] not in await inbox(messaging_http, anna)


async def test_a_vacancy_report_goes_to_bosam_saf_with_its_pdf_and_prints(
    messaging_http, person, known_unit
):
    anna = person("provider", "Anna Andersson", unit=known_unit)
    bo = person("coordinator", "Bo Berg")
    form = (await upload(messaging_http, anna, "ledigplatsanmalan.pdf", PDF)).json()
    sent = await send(
        messaging_http,
        anna,
        ["group:bosam"],
        "Ledigplatsanmälan",
        "Rum 12 är ledigt från 1 mars.",
        [form["id"]],
    )

    printed = await messaging_http.get(f"/messages/{sent['id']}/print", headers=bo.headers)
    assert printed.status_code == 200
    assert printed.headers["content-type"].startswith("text/html")
    for shown in ("Ledigplatsanmälan", "Anna Andersson", "Bosam SÄF", "ledigplatsanmalan.pdf"):
        assert shown in printed.text
    assert "Rum 12 är ledigt från 1 mars." in printed.text
    pdf = await messaging_http.get(f"/attachments/{form['id']}", headers=bo.headers)
    assert pdf.content == PDF and pdf.headers["content-type"] == "application/pdf"


async def test_a_deviation_report_is_a_message_to_bosam_saf_without_a_file(
    messaging_http, person, known_unit
):
    anna = person("provider", "Anna Andersson", unit=known_unit)
    bo = person("coordinator", "Bo Berg")
    sent = await send(
        messaging_http,
        anna,
        ["group:bosam"],
        "Avvikelse: förändrat omsorgsbehov",
        "Kunden behöver nu hjälp av två personer vid förflyttning.",
    )
    listed = (await inbox(messaging_http, bo))[sent["id"]]
    assert listed["subject"] == "Avvikelse: förändrat omsorgsbehov"
    assert listed["attachment_count"] == 0 and listed["unread"]


async def test_reply_reply_all_and_forward(messaging_http, person, known_unit):
    their_unit = f"unit:{known_unit}"
    anna = person("provider", "Anna Andersson", unit=known_unit)
    karin = person("provider", "Karin Karlsson", unit=known_unit)
    bo = person("coordinator", "Bo Berg")
    bodil = person("coordinator", "Bodil Björk")
    frida = person("fee_admin", "Frida Fors")
    plan = (await upload(messaging_http, bo, "plan.pdf", PDF)).json()
    original = await send(
        messaging_http,
        bo,
        ["group:bosam", their_unit],
        "Inflyttning",
        "Kunden flyttar in på måndag.",
        [plan["id"]],
    )

    # Svara: only the sender gets it, with the original quoted
    answer = await messaging_http.post(
        f"/messages/{original['id']}/reply",
        json={"body": "Tack, vi är redo."},
        headers=karin.headers,
    )
    assert answer.status_code == 201, answer.text
    reply = answer.json()
    assert reply["subject"] == "Sv: Inflyttning"
    assert reply["to"] == [{"id": bo.mailbox, "name": "Bo Berg"}]
    assert reply["in_reply_to"] == original["id"] and reply["attachments"] == []
    assert "Tack, vi är redo." in reply["body"] and "Kunden flyttar in på måndag." in reply["body"]
    assert reply["id"] in await inbox(messaging_http, bo)
    assert reply["id"] not in await inbox(messaging_http, bodil)

    # Svara alla: the sender and every recipient, Karin's own unit included
    answer_all = await messaging_http.post(
        f"/messages/{original['id']}/reply",
        json={"body": "Rummet är städat.", "all": True},
        headers=karin.headers,
    )
    assert answer_all.status_code == 201, answer_all.text
    assert [r["id"] for r in answer_all.json()["to"]] == [bo.mailbox, "group:bosam", their_unit]
    assert answer_all.json()["id"] in await inbox(messaging_http, bodil)
    assert answer_all.json()["id"] in await inbox(messaging_http, anna)

    # Vidarebefordra: the attachment goes along, and the new reader may download it
    forwarded = await messaging_http.post(
        f"/messages/{original['id']}/forward",
        json={"to": ["group:avgifter"], "body": "För kännedom."},
        headers=anna.headers,
    )
    assert forwarded.status_code == 201, forwarded.text
    assert forwarded.json()["subject"] == "Vb: Inflyttning"
    assert [a["id"] for a in forwarded.json()["attachments"]] == [plan["id"]]
    assert forwarded.json()["id"] in await inbox(messaging_http, frida)
    download = await messaging_http.get(f"/attachments/{plan['id']}", headers=frida.headers)
    assert download.status_code == 200 and download.content == PDF


async def test_the_badge_goes_up_when_a_message_arrives_and_down_when_it_is_read(
    messaging_http, person, known_unit
):
    anna = person("provider", "Anna Andersson", unit=known_unit)
    karin = person("provider", "Karin Karlsson", unit=known_unit)
    bo = person("coordinator", "Bo Berg")
    assert await badge(messaging_http, anna) == 0

    sent = await send(messaging_http, bo, [f"unit:{known_unit}"], "Fråga", "Har ni plats?")
    assert await badge(messaging_http, anna) == 1
    assert await badge(messaging_http, karin) == 1  # the unit's mailbox is shared

    await messaging_http.get(f"/messages/{sent['id']}", headers=karin.headers)
    assert await badge(messaging_http, karin) == 0
    assert await badge(messaging_http, anna) == 0
    assert not (await inbox(messaging_http, anna))[sent["id"]]["unread"]


async def test_deleting_empties_the_shared_inbox_and_the_last_one_out_removes_the_file(
    messaging_http, person, known_unit
):
    anna = person("provider", "Anna Andersson", unit=known_unit)
    karin = person("provider", "Karin Karlsson", unit=known_unit)
    bo = person("coordinator", "Bo Berg")
    note = (await upload(messaging_http, bo, "info.txt", "Välkommen!".encode())).json()
    sent = await send(messaging_http, bo, [f"unit:{known_unit}"], "Info", "", [note["id"]])

    deleted = await messaging_http.delete(f"/messages/{sent['id']}", headers=anna.headers)
    assert deleted.status_code == 204
    assert sent["id"] not in await inbox(messaging_http, karin)
    gone = await messaging_http.get(f"/messages/{sent['id']}", headers=karin.headers)
    assert gone.status_code == 404

    # the sender still has it among what they sent, with the file
    kept = await messaging_http.get(f"/messages/{sent['id']}", headers=bo.headers)
    assert kept.status_code == 200
    assert (await messaging_http.get(f"/attachments/{note['id']}", headers=bo.headers)).content

    # once the sender deletes it too, nobody holds it: message and file are gone
    again = await messaging_http.delete(f"/messages/{sent['id']}", headers=bo.headers)
    assert again.status_code == 204
    assert (
        await messaging_http.get(f"/messages/{sent['id']}", headers=bo.headers)
    ).status_code == 404
    file = await messaging_http.get(f"/attachments/{note['id']}", headers=bo.headers)
    assert file.status_code == 404


async def test_mailboxes_are_found_by_the_names_of_units_and_people(
    messaging_http, person, http, as_
):
    unit_id = f"vallmon-{uuid.uuid4().hex[:8]}"
    created = await http.post(
        "/units", json={"id": unit_id, "name": "Vallmons äldreboende"}, headers=as_("admin")
    )
    assert created.status_code == 201
    greta = person("caseworker", "Greta Gustafsson")
    never_here = person("caseworker", "Greta Aldrigsedd")

    async def vallmon():
        response = await messaging_http.get(
            "/mailboxes", params={"q": "vallmon"}, headers=greta.headers
        )
        return [m for m in response.json() if m["id"] == f"unit:{unit_id}"]

    assert await wait_for(vallmon) == [
        {"id": f"unit:{unit_id}", "name": "Vallmons äldreboende", "kind": "unit"}
    ]

    await badge(messaging_http, greta)  # she opens her inbox once
    found = await messaging_http.get("/mailboxes", params={"q": "greta"}, headers=greta.headers)
    ids = [m["id"] for m in found.json()]
    assert greta.mailbox in ids and never_here.mailbox not in ids
