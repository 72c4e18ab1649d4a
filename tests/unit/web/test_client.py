"""The web UI's calls: a read that meets a connection the service just closed is asked
again once; a change never is (it may have taken effect)."""

from __future__ import annotations

import asyncio
import importlib.abc
import sys

import httpx
import pytest
from httpcore._synchronization import current_async_library

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


async def test_calls_beyond_a_services_connections_wait_their_turn_and_all_are_answered() -> None:
    in_flight: list[str] = []
    most = 0
    two_at_the_service, release = asyncio.Event(), asyncio.Event()

    async def handle(request: httpx.Request) -> httpx.Response:
        nonlocal most
        in_flight.append(request.url.path)
        most = max(most, len(in_flight))
        if len(in_flight) == 2:
            two_at_the_service.set()
        await release.wait()
        in_flight.remove(request.url.path)
        return httpx.Response(200, json={"unread": 1})

    api = Api(Settings(env="test", web_max_connections=2), httpx.MockTransport(handle))
    try:
        calls = [
            asyncio.ensure_future(api.get("messaging", f"/messages/{n}", "token")) for n in range(6)
        ]
        await two_at_the_service.wait()
        for _ in range(10):  # the other four had every chance to go too
            await asyncio.sleep(0)
        assert len(in_flight) == 2
        release.set()
        answers = await asyncio.gather(*calls)
    finally:
        await api.close()
    assert answers == [{"unread": 1}] * 6
    assert most == 2


async def test_the_pool_learns_which_async_library_runs_without_a_failed_import_per_call() -> None:
    """httpcore imports sniffio on every call to know the async library; when it is missing
    the import fails and is searched for on the whole path again each time."""
    searched: list[str] = []

    class Watching(importlib.abc.MetaPathFinder):
        def find_spec(self, name: str, path: object = None, target: object = None) -> None:
            searched.append(name)

    sys.meta_path.insert(0, Watching())
    try:
        for _ in range(3):
            assert current_async_library() == "asyncio"
    finally:
        sys.meta_path.pop(0)
    assert searched == []
