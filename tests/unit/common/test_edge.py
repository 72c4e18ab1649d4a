"""What a client sees at the shared HTTP edge of every service: bodies that cannot be read as
JSON, or are too large, or hold values a 422 could not quote, get a 4xx that says what is
wrong, never a 500 or a dropped connection; HTML answers carry the security headers.

The four real apps run without their lifespan (no database): every refusal here is made
before a route would touch the pool."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

from lifecare import codec_server
from services.absence.main import build as build_absence
from services.billing.main import build as build_billing
from services.common.app import ServiceSpec, create_app
from services.common.auth import issue_token
from services.common.edge import MAX_JSON_DEPTH, read_json
from services.common.payload_codec import ENCODING, KEY_ID, key_id, read_key
from services.common.settings import Settings
from services.messaging.main import build as build_messaging
from services.orders.main import build as build_orders

SETTINGS = Settings(env="test", _env_file=None)  # type: ignore[call-arg]
BUILDERS = {
    "orders": build_orders,
    "absence": build_absence,
    "billing": build_billing,
    "messaging": build_messaging,
}
# each a JSON text no route can take, and what the 422 says of it
UNREADABLE = {
    "lone surrogate": ('{"first_name": "\\ud800"}', "lone surrogate"),
    "lone surrogate in a key": ('{"\\udfff": 1}', "lone surrogate"),
    "NaN": ('{"description": NaN}', "NaN is not a JSON number"),
    "Infinity": ('{"amount": -Infinity}', "-Infinity is not a JSON number"),
    "1e999": ('{"care_monthly_amount": 1e999}', "1e999 is too large"),
    "deep nesting": ("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1), "nested deeper"),
    "deeper than Python's stack": ("[" * 200_000 + "]" * 200_000, "nested deeper"),
    "huge integer": ('{"n": ' + "9" * 5000 + "}", "not JSON"),
}


def _client(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


@pytest.fixture(scope="module")
async def services() -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    clients = {}
    for name, build in BUILDERS.items():
        app = build(SETTINGS)
        app.state.pool = None  # no route gets as far as the pool in these tests
        clients[name] = _client(app)
    yield clients
    for client in clients.values():
        await client.aclose()


def _body_routes(client: httpx.AsyncClient) -> list[tuple[str, str]]:
    """(method, path with ids filled in) of each route that takes a body."""
    app: FastAPI = client._transport.app  # type: ignore[attr-defined]
    spec = app.openapi()
    found = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if "requestBody" in operation:
                found.append((method.upper(), path.replace("{", "").replace("}", "")))
    return [(m, _fill(p)) for m, p in found]


def _fill(path: str) -> str:
    return "/".join(str(uuid.uuid4()) if part.endswith("id") else part for part in path.split("/"))


def _token(role: str) -> dict[str, str]:
    unit = "solbacken" if role == "provider" else None
    token = issue_token(SETTINGS, sub="edge", name="Edge", role=role, unit=unit)
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("case", list(UNREADABLE))
async def test_a_body_that_is_not_clean_json_is_a_422_on_every_route(services, case):
    text, says = UNREADABLE[case]
    routes = 0
    for name, client in services.items():
        for method, path in _body_routes(client):
            if path == "/attachments":  # multipart, not JSON
                continue
            response = await client.request(
                method,
                path,
                content=text.encode("utf-8", "surrogatepass"),
                headers={**_token("admin"), "content-type": "application/json"},
            )
            assert response.status_code == 422, (name, method, path, response.text)
            [detail] = response.json()["detail"]
            assert says in detail["msg"], (name, path, detail)
            routes += 1
    assert routes >= 14  # every JSON body route of the four services (14 today)


async def test_a_body_that_is_not_utf8_is_a_422(services):
    response = await services["orders"].post(
        "/customers",
        content=b'{"first_name": "\xff\xfe"}',
        headers={**_token("caseworker"), "content-type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == "the body is not UTF-8"


async def test_bytes_of_another_content_type_are_quoted_safely_in_the_422(services):
    # FastAPI hands the model the raw bytes; its own handler failed decoding them (a 500)
    response = await services["orders"].post(
        "/customers",
        content=b"\xff\xfe" * 10_000,
        headers={**_token("caseworker"), "content-type": "text/plain"},
    )
    assert response.status_code == 422
    [detail] = response.json()["detail"]
    assert detail["loc"] == ["body"]
    assert len(detail["input"]) <= 81


async def test_a_422_quotes_a_short_excerpt_of_a_long_value_only(services):
    name = "Å" * 500_000
    response = await services["orders"].post(
        "/customers",
        json={"personnummer": "189001019802", "first_name": name, "last_name": "Berg"},
        headers=_token("caseworker"),
    )
    assert response.status_code == 422
    [detail] = response.json()["detail"]
    assert detail["loc"] == ["body", "first_name"]
    assert detail["input"] == "Å" * 80 + "…"
    assert len(response.content) < 1_000


async def test_a_422_escapes_control_and_bidi_characters_it_quotes(services):
    response = await services["messaging"].post(
        "/messages",
        json={"to": ["group:bosam"], "subject": "Faktura\u202egpj.exe", "body": ""},
        headers=_token("provider"),
    )
    assert response.status_code == 422
    [detail] = response.json()["detail"]
    assert detail["loc"] == ["body", "subject"]
    assert "bidirectional override (U+202E at position 8)" in detail["msg"]
    assert detail["input"] == "Faktura\\u202egpj.exe"


async def test_a_json_body_over_the_limit_is_a_413_judged_by_its_content_length(services):
    body = json.dumps({"body": "x" * SETTINGS.max_body_bytes}).encode()
    response = await services["messaging"].post(
        "/messages",
        content=body,
        headers={**_token("provider"), "content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"] == {
        "code": "payload_too_large",
        "message": f"the request body is larger than this route takes ({SETTINGS.max_body_bytes}"
        " bytes)",
    }


async def test_a_streamed_body_is_refused_once_it_passes_the_limit_not_read_to_its_end(services):
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"body": "'
        for _ in range(10_000):  # 640 MB if anyone read it all
            sent += 1
            yield b"x" * 65536

    response = await services["messaging"].post(
        "/messages",
        content=endless(),
        headers={**_token("provider"), "content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert sent <= SETTINGS.max_body_bytes // 65536 + 2


async def test_an_upload_has_a_larger_limit_of_its_own(services):
    over = SETTINGS.max_upload_bytes + 1
    response = await services["messaging"].post(
        "/attachments",
        content=b"x" * over,
        headers={**_token("provider"), "content-type": "multipart/form-data; boundary=b"},
    )
    assert response.status_code == 413
    assert str(SETTINGS.max_upload_bytes) in response.json()["error"]["message"]
    assert SETTINGS.max_upload_bytes > 10 * 1024 * 1024 > SETTINGS.max_body_bytes


async def test_a_streamed_upload_past_its_limit_is_a_413(services):
    async def endless() -> AsyncIterator[bytes]:
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\n'
        for _ in range(1_000):
            yield b"x" * 65536

    response = await services["messaging"].post(
        "/attachments",
        content=endless(),
        headers={**_token("provider"), "content-type": "multipart/form-data; boundary=b"},
    )
    assert response.status_code == 413


# --- security headers ----------------------------------------------------------------------

pages = APIRouter()


@pages.get("/page", response_class=HTMLResponse)
async def page() -> str:
    return "<p>Utskrift</p>"


@pages.get("/data")
async def data() -> dict[str, str]:
    return {"a": "b"}


async def test_every_html_answer_carries_the_security_headers():
    app = create_app(ServiceSpec(name="test", title="Test", router=pages), SETTINGS)
    async with _client(app) as client:
        html = await client.get("/page")
        docs = await client.get("/docs")
        json_answer = await client.get("/data")
    policy = html.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
    assert html.headers["X-Content-Type-Options"] == "nosniff"
    assert html.headers["Referrer-Policy"] == "no-referrer"
    assert html.headers["X-Frame-Options"] == "DENY"
    # Swagger UI keeps working: its script comes from jsDelivr
    assert "https://cdn.jsdelivr.net" in docs.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in docs.headers["Content-Security-Policy"]
    assert json_answer.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in json_answer.headers


def test_the_strict_reader_takes_what_json_allows():
    assert read_json(b'{"a": [1, 2.5, "\\u00e5", "\\ud83d\\ude00", null, true]}') == {
        "a": [1, 2.5, "å", "😀", None, True]
    }
    nested = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert read_json(nested.encode()) is not None


# --- the codec server ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"\xff\xfe", "not UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "protobuf JSON"),
        (b'{"payloads": [{"metadata": {"\\ud800": "eA=="}}]}', "protobuf JSON"),
        (b'{"payloads": [{"data": NaN}]}', "protobuf JSON"),
        (b'{"payloads": [{"data": 1e999}]}', "protobuf JSON"),
    ],
)
async def test_the_codec_server_answers_a_body_it_cannot_read_with_a_400(body, says):
    async with _client(codec_server.build(SETTINGS)) as codec:
        for path in ("/encode", "/decode"):
            response = await codec.post(path, content=body)
            assert response.status_code == 400, (path, response.text)
            assert response.json()["error"]["code"] == "bad_payloads"
            assert says in response.json()["error"]["message"]


async def test_the_codec_server_has_a_body_limit():
    size = SETTINGS.codec_max_body_bytes
    async with _client(codec_server.build(SETTINGS)) as codec:
        response = await codec.post("/decode", content=b"{" + b" " * size + b"}")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def _encrypted(data: bytes) -> dict:
    kid = key_id(read_key(SETTINGS.payload_key.get_secret_value())).encode()
    sealed = Payload(metadata={"encoding": ENCODING, KEY_ID: kid}, data=data)
    return json_format.MessageToDict(Payloads(payloads=[sealed]))


async def test_the_codec_server_answers_a_payload_too_short_for_its_nonce_with_a_400():
    async with _client(codec_server.build(SETTINGS)) as codec:
        for data in (b"", b"12345", b"x" * 27):
            response = await codec.post("/decode", json=_encrypted(data))
            assert response.status_code == 400, response.text
            assert response.json()["error"] == {
                "code": "malformed_payload",
                "message": "an encrypted payload holds at least 28 bytes (nonce and tag), "
                f"this one {len(data)}",
            }


async def test_the_codec_server_answers_a_decrypted_payload_that_is_no_payload_with_a_400():
    key = read_key(SETTINGS.payload_key.get_secret_value())
    kid = key_id(key).encode()
    nonce = b"\x00" * 12
    sealed = AESGCM(key).encrypt(nonce, b"\xff\xff\xff not protobuf", kid)
    async with _client(codec_server.build(SETTINGS)) as codec:
        response = await codec.post("/decode", json=_encrypted(nonce + sealed))
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "malformed_payload",
        "message": "the decrypted payload is not a Temporal payload",
    }
