"""The web UI's calls: a read that meets a connection the service just closed is asked
again once; a change never is (it may have taken effect)."""

from __future__ import annotations

import httpx
import pytest

from services.common.settings import Settings
from services.web.client import Api, ServiceDown


def closing_once(calls: list[str]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if len(calls) == 1:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        return httpx.Response(200, json={"unread": 3})

    return httpx.MockTransport(handle)


async def test_a_read_on_a_connection_closed_under_it_is_asked_again_once() -> None:
    calls: list[str] = []
    api = Api(Settings(env="test"), closing_once(calls))
    try:
        assert await api.get("messaging", "/messages/unread-count", "token") == {"unread": 3}
    finally:
        await api.close()
    assert calls == ["GET", "GET"]


async def test_a_change_is_not_sent_twice_and_says_the_service_did_not_answer() -> None:
    calls: list[str] = []
    api = Api(Settings(env="test"), closing_once(calls))
    try:
        with pytest.raises(ServiceDown) as down:
            await api.post("orders", "/orders/x/confirm", "token", {"start_date": "2026-12-01"})
    finally:
        await api.close()
    assert calls == ["POST"]
    assert down.value.service == "orders"
