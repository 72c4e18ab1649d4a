"""How the app factory answers errors the database driver raises, and names each request."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest
from fastapi import APIRouter

from services.common.app import ServiceSpec, create_app
from services.common.deps import RequestId
from services.common.settings import Settings

router = APIRouter()


@router.get("/nul")
async def nul() -> None:
    raise asyncpg.exceptions.CharacterNotInRepertoireError("invalid byte sequence: 0x00")


@router.get("/too-big")
async def too_big() -> None:
    # what asyncpg raises for GET /invoices?offset=9223372036854775808 (an int8 argument)
    raise asyncpg.exceptions._base.DataError("invalid input for query argument $1")


@router.get("/gone")
async def gone() -> None:
    raise asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed")


@router.get("/request-id")
async def request_id(request_id: RequestId) -> dict[str, str]:
    return {"request_id": request_id}


async def _get(
    path: str, headers: dict[str, str] | dict[str, bytes] | None = None
) -> httpx.Response:
    app = create_app(ServiceSpec(name="test", title="Test", router=router), Settings(env="test"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get(path, headers=headers)


async def test_a_value_the_database_refuses_is_the_clients_422() -> None:
    for path in ("/nul", "/too-big"):
        response = await _get(path)
        assert response.status_code == 422, path
        assert response.json()["error"]["code"] == "value_not_storable"


async def test_a_lost_connection_is_still_a_503() -> None:
    response = await _get("/gone")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "database_unavailable"


async def test_every_answer_names_its_request_with_the_servers_own_id() -> None:
    fresh = await _get("/request-id")
    server_id = fresh.headers["X-Request-ID"]
    assert str(uuid.UUID(server_id)) == server_id  # a new uuid
    assert fresh.json() == {"request_id": server_id}
    assert "X-Correlation-ID" not in fresh.headers

    refused = await _get("/gone", headers={"X-Request-ID": "loggkontroll-8"})
    assert refused.status_code == 503
    assert refused.headers["X-Correlation-ID"] == "loggkontroll-8"


async def test_a_clients_safe_request_id_is_kept_beside_the_servers_for_the_audit() -> None:
    given = await _get("/request-id", headers={"X-Request-ID": "loggkontroll-7"})
    server_id = given.headers["X-Request-ID"]
    assert server_id != "loggkontroll-7"
    assert given.headers["X-Correlation-ID"] == "loggkontroll-7"
    # what the audit rows store: the server's id first, the client's as correlation
    assert given.json() == {"request_id": f"{server_id} loggkontroll-7"}


@pytest.mark.parametrize(
    "unsafe",
    ["<script>alert(1)</script>", "x" * 8_000, "a b", "id;drop", "", "ä-id", "x" * 65],
)
async def test_a_clients_unsafe_request_id_is_dropped(unsafe: str) -> None:
    answer = await _get("/request-id", headers={"X-Request-ID": unsafe.encode()})
    server_id = answer.headers["X-Request-ID"]
    assert answer.json() == {"request_id": server_id}
    assert str(uuid.UUID(server_id)) == server_id
    assert "X-Correlation-ID" not in answer.headers
