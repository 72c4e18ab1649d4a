"""Every bad input of the messaging contract gets its 4xx; a stranger finds nothing."""

from __future__ import annotations

import uuid

import pytest

from services.messaging.domain import MAX_ATTACHMENT_BYTES
from tests.integration.messaging.helpers import send, upload
from tests.unit.messaging.files import EXE, PDF, PNG, XLSX


async def test_a_file_over_10_mb_is_refused_with_413(messaging_http, person):
    anna = person("provider", "Anna Andersson", unit="solbacken")
    exactly = await upload(messaging_http, anna, "stor.txt", b"a" * MAX_ATTACHMENT_BYTES)
    assert exactly.status_code == 201, exactly.text
    over = await upload(messaging_http, anna, "stor.txt", b"a" * (MAX_ATTACHMENT_BYTES + 1))
    assert over.status_code == 413
    assert over.json()["error"] == {
        "code": "file_too_large",
        "message": "a file may be at most 10 MB",
    }


async def test_a_body_far_over_the_limit_is_refused_before_it_is_read(messaging_http, person):
    anna = person("provider", "Anna Andersson", unit="solbacken")
    sent = []

    async def endless():
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n\r\n'
        for _ in range(100_000):  # 6.5 GB if anyone read it all
            sent.append(1)
            yield b"x" * 65536

    response = await messaging_http.post(
        "/attachments",
        content=endless(),
        headers={**anna.headers, "content-type": "multipart/form-data; boundary=b"},
    )
    assert response.status_code == 413
    assert len(sent) * 65536 < 2 * MAX_ATTACHMENT_BYTES


@pytest.mark.parametrize(
    ("filename", "data", "code"),
    [
        ("program.exe", EXE, "file_type_not_allowed"),
        ("kalkyl.xlsx", XLSX, "file_type_not_allowed"),
        ("plan.pdf", EXE, "file_content_mismatch"),
        ("plan.docx", XLSX, "file_content_mismatch"),
        ("bild.pdf", PNG, "file_content_mismatch"),
        ("anteckning.txt", b"text\x00binary", "file_content_mismatch"),
    ],
)
async def test_a_file_of_the_wrong_type_is_refused_with_415(
    messaging_http, person, filename, data, code
):
    anna = person("provider", "Anna Andersson", unit="solbacken")
    response = await upload(messaging_http, anna, filename, data)
    assert response.status_code == 415
    assert response.json()["error"]["code"] == code


async def test_an_upload_that_is_not_a_multipart_file_is_refused(messaging_http, person):
    anna = person("provider", "Anna Andersson", unit="solbacken")
    raw = await messaging_http.post("/attachments", content=PDF, headers=anna.headers)
    assert raw.status_code == 415
    assert raw.json()["error"]["code"] == "multipart_expected"
    no_file = await messaging_http.post(
        "/attachments",
        data={"note": "no file here"},
        files={"other": ("x.pdf", PDF)},
        headers=anna.headers,
    )
    assert no_file.status_code == 422
    assert no_file.json()["error"]["code"] == "missing_file"
    empty = await upload(messaging_http, anna, "tom.txt", b"")
    assert empty.status_code == 422


async def test_a_stranger_gets_404_for_the_message_and_its_file(messaging_http, person, known_unit):
    anna = person("provider", "Anna Andersson", unit=known_unit)
    stranger = person("provider", "Sara Stranger", unit=f"other-{known_unit}")
    caseworker = person("caseworker", "Cecilia Caseworker")
    plan = (await upload(messaging_http, anna, "plan.pdf", PDF)).json()
    sent = await send(messaging_http, anna, ["group:bosam"], "Plan", "", [plan["id"]])

    for outsider in (stranger, caseworker):
        for path in (f"/messages/{sent['id']}", f"/messages/{sent['id']}/print"):
            response = await messaging_http.get(path, headers=outsider.headers)
            assert response.status_code == 404, path
            assert response.json()["error"]["code"] == "message_not_found"
        file = await messaging_http.get(f"/attachments/{plan['id']}", headers=outsider.headers)
        assert file.status_code == 404
        assert file.json()["error"]["code"] == "attachment_not_found"
        changes = [
            ("post", f"/messages/{sent['id']}/reply", {"body": "x"}),
            ("post", f"/messages/{sent['id']}/forward", {"to": [outsider.mailbox], "body": ""}),
            ("delete", f"/messages/{sent['id']}", None),
        ]
        for method, path, body in changes:
            response = await messaging_http.request(
                method, path, json=body, headers=outsider.headers
            )
            assert response.status_code == 404, path
    missing = await messaging_http.get(f"/messages/{uuid.uuid4()}", headers=anna.headers)
    assert missing.status_code == 404


async def test_a_message_to_no_mailbox_is_refused_and_nothing_is_sent(
    messaging_http, person, known_unit
):
    anna = person("provider", "Anna Andersson", unit=known_unit)
    before = await messaging_http.get("/messages", params={"folder": "sent"}, headers=anna.headers)
    cases = [
        ({"to": ["bosam"]}, "invalid_mailbox"),
        ({"to": ["group:kost"]}, "unknown_mailbox"),
        ({"to": ["group:bosam", "unit:no-such-unit"]}, "unknown_mailbox"),
        ({"to": ["user:nobody-ever-seen"]}, "unknown_mailbox"),
        ({"to": ["group:bosam"], "attachment_ids": [str(uuid.uuid4())]}, "unknown_attachment"),
    ]
    for fields, code in cases:
        body = {"subject": "Hej", "body": "", **fields}
        response = await messaging_http.post("/messages", json=body, headers=anna.headers)
        assert response.status_code == 422, fields
        assert response.json()["error"]["code"] == code, fields
    for invalid in ({"to": [], "subject": "x", "body": ""}, {"to": ["group:bosam"], "body": ""}):
        response = await messaging_http.post("/messages", json=invalid, headers=anna.headers)
        assert response.status_code == 422
    after = await messaging_http.get("/messages", params={"folder": "sent"}, headers=anna.headers)
    assert after.json() == before.json()


async def test_someone_elses_upload_cannot_be_attached(messaging_http, person):
    anna = person("provider", "Anna Andersson", unit="solbacken")
    bo = person("coordinator", "Bo Berg")
    hers = (await upload(messaging_http, anna, "plan.pdf", PDF)).json()
    response = await messaging_http.post(
        "/messages",
        json={"to": ["group:bosam"], "subject": "x", "body": "", "attachment_ids": [hers["id"]]},
        headers=bo.headers,
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unknown_attachment"


async def test_without_a_token_nothing_answers(messaging_http):
    for method, path in (("get", "/messages"), ("get", "/mailboxes"), ("post", "/attachments")):
        response = await messaging_http.request(method, path)
        assert response.status_code == 401, path
    assert (await messaging_http.get("/health")).json() == {"status": "ok", "service": "messaging"}
