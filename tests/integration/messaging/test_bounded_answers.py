"""Answers that cannot grow without bound: a thread of replies, a body far over the limit, a
subject that reads backwards; the print view carries the security headers."""

from __future__ import annotations

from services.messaging.domain import QUOTED_CHARS
from tests.integration.messaging.helpers import send


async def test_eight_replies_to_a_long_thread_stay_bounded(messaging_http, person):
    anna = person("provider", "Anna Andersson", unit="solbacken")
    bo = person("coordinator", "Bo Berg")
    message = await send(messaging_http, anna, ["group:bosam"], "Plan", body="a" * 20_000)
    sizes = []
    for turn in range(8):
        writer = bo if turn % 2 == 0 else anna
        answer = await messaging_http.post(
            f"/messages/{message['id']}/reply",
            json={"body": f"Svar {turn} " + "b" * 19_000},
            headers=writer.headers,
        )
        assert answer.status_code == 201, answer.text
        message = answer.json()
        sizes.append(len(message["body"]))
    # was 181 044 characters after eight replies: each reply quoted the whole thread
    assert max(sizes) < 19_010 + QUOTED_CHARS + 200, sizes
    assert message["body"].rstrip().endswith("[…]")


async def test_a_20_mb_message_body_is_refused_before_it_is_read(messaging_http, person):
    anna = person("provider", "Anna Andersson", unit="solbacken")
    response = await messaging_http.post(
        "/messages",
        json={"to": ["group:bosam"], "subject": "Stort", "body": "x" * 20_000_000},
        headers=anna.headers,
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


async def test_a_subject_with_a_bidi_override_or_only_spaces_is_refused(messaging_http, person):
    anna = person("provider", "Anna Andersson", unit="solbacken")
    for subject, says in [
        ("Faktura\u202efdp.exe", "bidirectional override (U+202E at position 8)"),
        ("   ", "at least 1 character"),
        ("Rad\nRad", "control character"),
    ]:
        response = await messaging_http.post(
            "/messages",
            json={"to": ["group:bosam"], "subject": subject, "body": ""},
            headers=anna.headers,
        )
        assert response.status_code == 422, subject
        [detail] = response.json()["detail"]
        assert detail["loc"] == ["body", "subject"] and says in detail["msg"]


async def test_the_print_view_carries_the_security_headers(messaging_http, person):
    anna = person("provider", "Anna Andersson", unit="solbacken")
    bo = person("coordinator", "Bo Berg")
    message = await send(messaging_http, anna, ["group:bosam"], "Utskrift", body="Hej")
    printed = await messaging_http.get(f"/messages/{message['id']}/print", headers=bo.headers)
    assert printed.status_code == 200
    assert printed.headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'none'" in printed.headers["Content-Security-Policy"]
    assert printed.headers["X-Content-Type-Options"] == "nosniff"
    assert printed.headers["Referrer-Policy"] == "no-referrer"
