"""The worker's health port, as a cluster's probe reads it."""

from __future__ import annotations

import socket

import httpx

from lifecare.health import serve_health


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_health_is_200_while_the_check_holds_and_503_when_it_fails() -> None:
    state = {"ok": True}

    async def check() -> bool:
        if state["ok"] is None:
            raise ConnectionRefusedError
        return bool(state["ok"])

    port = free_port()
    server = await serve_health(port, check)
    assert server is not None
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            assert (await http.get("/health")).status_code == 200
            state["ok"] = False
            assert (await http.get("/health")).status_code == 503
            state["ok"] = None  # the check itself fails: unavailable, not a crash
            assert (await http.get("/health")).status_code == 503
            assert (await http.get("/other")).status_code == 503
    finally:
        server.close()


async def test_a_taken_port_is_warned_about_not_fatal() -> None:
    async def check() -> bool:
        return True

    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        assert await serve_health(taken.getsockname()[1], check) is None


async def test_metrics_are_served_beside_health_for_prometheus() -> None:
    async def check() -> bool:
        return False  # the database unreachable: metrics are still served

    async def metrics() -> bytes:
        return b"# TYPE lifecare_events_consumed_total counter\n"

    port = free_port()
    server = await serve_health(port, check, metrics)
    assert server is not None
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            answer = await http.get("/metrics")
            assert answer.status_code == 200
            assert answer.headers["content-type"].startswith("text/plain")
            assert "lifecare_events_consumed_total" in answer.text
            assert (await http.get("/health")).status_code == 503
    finally:
        server.close()
