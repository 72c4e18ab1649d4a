"""How the app factory answers errors the database driver raises, and names each request."""

from __future__ import annotations

import asyncpg
import httpx
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


async def _get(path: str, headers: dict[str, str] | None = None) -> httpx.Response:
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


async def test_every_answer_names_its_request_and_the_route_sees_the_same_id() -> None:
    given = await _get("/request-id", headers={"X-Request-ID": "loggkontroll-7"})
    assert given.headers["X-Request-ID"] == "loggkontroll-7"
    assert given.json() == {"request_id": "loggkontroll-7"}

    fresh = await _get("/request-id")
    assert fresh.json()["request_id"] == fresh.headers["X-Request-ID"]
    assert len(fresh.headers["X-Request-ID"]) == 36  # a new uuid

    refused = await _get("/gone", headers={"X-Request-ID": "loggkontroll-8"})
    assert refused.status_code == 503 and refused.headers["X-Request-ID"] == "loggkontroll-8"
