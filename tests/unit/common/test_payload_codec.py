"""The payload codec (services/common/payload_codec.py), its settings and the codec server."""

from __future__ import annotations

import base64
import os

import httpx
import pytest
from google.protobuf import json_format
from pydantic import ValidationError
from temporalio.api.common.v1 import Payload, Payloads

from lifecare import codec_server
from services.common.auth import Role, issue_token
from services.common.payload_codec import ENCODING, KEY_ID, EncryptionCodec, PayloadKeyError
from services.common.settings import DEVELOPMENT_JWT_SECRET, Settings
from services.common.temporal import data_converter
from tests.unit.common import tokens
from workflows.models import Actor, WithdrawRequest

PERSONNUMMER = "189001019802"  # Skatteverket's test number
NAME = "Greta Testsson"
JWKS_URL = "https://identity.example/.well-known/jwks.json"


def _key() -> bytes:
    return os.urandom(32)


def _b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def _payload(text: str) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=text.encode())


async def test_a_payload_comes_back_as_it_was_and_is_unreadable_between():
    codec = EncryptionCodec(_key())
    original = _payload(f'{{"name": "{NAME}", "personnummer": "{PERSONNUMMER}"}}')

    [sealed] = await codec.encode([original])
    [opened] = await codec.decode([sealed])

    assert opened == original
    assert sealed.metadata["encoding"] == ENCODING
    assert sealed.metadata[KEY_ID] == codec.key_id.encode()
    assert PERSONNUMMER.encode() not in sealed.SerializeToString()
    assert NAME.encode() not in sealed.SerializeToString()


async def test_the_same_payload_encrypts_differently_each_time():
    codec = EncryptionCodec(_key())
    first, second = await codec.encode([_payload("x"), _payload("x")])
    assert first.data != second.data


@pytest.mark.parametrize("position", [0, 12, -1])  # nonce, ciphertext, tag
async def test_a_tampered_payload_is_refused(position: int):
    codec = EncryptionCodec(_key())
    [sealed] = await codec.encode([_payload(NAME)])
    data = bytearray(sealed.data)
    data[position] ^= 0x01
    sealed.data = bytes(data)
    with pytest.raises(PayloadKeyError, match="authentication"):
        await codec.decode([sealed])


async def test_a_changed_key_id_is_refused_even_if_the_key_is_known():
    old, new = _key(), _key()
    codec = EncryptionCodec(new, previous=[old])
    [sealed] = await EncryptionCodec(old).encode([_payload(NAME)])
    sealed.metadata[KEY_ID] = codec.key_id.encode()  # claims the other key
    with pytest.raises(PayloadKeyError):
        await codec.decode([sealed])


async def test_a_payload_of_another_key_is_refused():
    [sealed] = await EncryptionCodec(_key()).encode([_payload(NAME)])
    with pytest.raises(PayloadKeyError, match="no payload key"):
        await EncryptionCodec(_key()).decode([sealed])


async def test_after_a_rotation_old_payloads_still_decode_and_new_ones_use_the_new_key():
    old, new = _key(), _key()
    [before] = await EncryptionCodec(old).encode([_payload("before")])
    rotated = EncryptionCodec(new, previous=[old])

    [after] = await rotated.encode([_payload("after")])

    assert [p.data for p in await rotated.decode([before, after])] == [b"before", b"after"]
    assert after.metadata[KEY_ID] != before.metadata[KEY_ID]


async def test_a_payload_written_before_encryption_passes_through():
    plain = _payload('"recorded before encryption"')
    assert await EncryptionCodec(_key()).decode([plain]) == [plain]


async def test_the_platform_converter_encrypts_a_workflow_input():
    converter = data_converter(Settings(env="test", _env_file=None))  # type: ignore[call-arg]
    request = WithdrawRequest(reason=f"{NAME} har avlidit", actor=Actor(sub="c", role="caseworker"))
    [payload] = await converter.encode([request])
    assert payload.metadata["encoding"] == ENCODING
    assert NAME.encode() not in payload.data
    assert await converter.decode([payload], [WithdrawRequest]) == [request]


# --- settings ------------------------------------------------------------------------------


def test_production_refuses_the_development_payload_key():
    with pytest.raises(ValidationError, match="LIFECARE_PAYLOAD_KEY"):
        Settings(env="production", jwt_secret="x" * 40, jwks_url=JWKS_URL, _env_file=None)  # type: ignore[call-arg]
    assert Settings(
        env="production",
        jwt_secret="x" * 40,
        payload_key=_b64(_key()),
        jwks_url=JWKS_URL,
        _env_file=None,
    )  # type: ignore[call-arg]


@pytest.mark.parametrize("key", ["not base64!", _b64(b"too short"), _b64(b"k" * 33)])
def test_a_payload_key_that_is_not_32_bytes_of_base64_is_refused(key: str):
    with pytest.raises(ValidationError, match="32 bytes"):
        Settings(payload_key=key, _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="32 bytes"):
        Settings(payload_old_keys=[key], _env_file=None)  # type: ignore[call-arg]


# --- the codec server ----------------------------------------------------------------------


def _json(payloads: list[Payload]) -> dict:
    return json_format.MessageToDict(Payloads(payloads=payloads))


def _payloads(body: dict) -> list[Payload]:
    return list(json_format.ParseDict(body, Payloads()).payloads)


def _server(settings: Settings) -> httpx.AsyncClient:
    app = codec_server.build(settings)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://codec")


async def test_the_codec_server_encodes_and_decodes_for_the_ui():
    settings = Settings(env="development", _env_file=None)  # type: ignore[call-arg]
    original = _payload(f'"{NAME}"')
    async with _server(settings) as codec:
        encoded = await codec.post("/encode", json=_json([original]))
        assert encoded.status_code == 200
        [sealed] = _payloads(encoded.json())
        assert sealed.metadata["encoding"] == ENCODING

        decoded = await codec.post("/decode", json=encoded.json(), headers={"X-Namespace": "x"})
        assert decoded.status_code == 200
        assert _payloads(decoded.json()) == [original]


async def test_the_codec_server_answers_the_ui_origin_only():
    settings = Settings(env="development", _env_file=None)  # type: ignore[call-arg]
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-namespace",
    }
    async with _server(settings) as codec:
        ui = await codec.options(
            "/decode", headers={**preflight, "Origin": "http://localhost:8233"}
        )
        other = await codec.options(
            "/decode", headers={**preflight, "Origin": "http://evil.example"}
        )
    assert ui.status_code == 200
    assert ui.headers["access-control-allow-origin"] == "http://localhost:8233"
    assert "access-control-allow-origin" not in other.headers


async def test_the_codec_server_refuses_a_tampered_payload_and_nonsense():
    settings = Settings(env="development", _env_file=None)  # type: ignore[call-arg]
    async with _server(settings) as codec:
        body = (await codec.post("/encode", json=_json([_payload("x")]))).json()
        data = bytearray(base64.b64decode(body["payloads"][0]["data"]))
        data[-1] ^= 1
        body["payloads"][0]["data"] = base64.b64encode(bytes(data)).decode()
        tampered = await codec.post("/decode", json=body)
        nonsense = await codec.post("/decode", content=b"{not json")
    assert tampered.status_code == 422
    assert nonsense.status_code == 400


async def test_in_production_only_an_admins_platform_token_may_decode():
    secret = "a-real-production-secret-0123456789abcdef"
    assert secret != DEVELOPMENT_JWT_SECRET
    settings = Settings(
        env="production",
        jwt_secret=secret,
        payload_key=_b64(_key()),
        jwks_url=JWKS_URL,
        _env_file=None,
    )  # type: ignore[call-arg]
    signing = tokens.new_keys()
    app = codec_server.build(settings, tokens.verifier(settings, tokens.Jwks(signing)))
    body = _json([_payload("x")])

    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    provider = tokens.platform_token(signing, settings, role=Role.provider, unit="u")
    admin = tokens.platform_token(signing, settings, role=Role.admin)
    # signed with the real secret, but a development token: refused in production
    hs256 = issue_token(settings, sub="op", name="Op", role=Role.admin)
    stranger = tokens.platform_token(tokens.new_keys(), settings, role=Role.admin)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://codec") as codec:
        answers = {
            "anonymous": await codec.post("/decode", json=body),
            "provider": await codec.post("/decode", json=body, headers=bearer(provider)),
            "hs256 admin": await codec.post("/decode", json=body, headers=bearer(hs256)),
            "unknown key": await codec.post("/decode", json=body, headers=bearer(stranger)),
            "admin": await codec.post("/decode", json=body, headers=bearer(admin)),
        }
    assert {caller: answer.status_code for caller, answer in answers.items()} == {
        "anonymous": 401,
        "provider": 403,
        "hs256 admin": 401,
        "unknown key": 401,
        "admin": 200,
    }
    assert "development tokens are refused" in answers["hs256 admin"].json()["error"]["message"]
