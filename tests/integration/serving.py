"""Serving an app of the test session over real HTTP: uvicorn on the session's event loop.

The apps run on the test session's loop with asyncpg pools made in it, so they cannot move
to a thread or process of their own; a tool that speaks plain HTTP from outside the loop
(schemathesis, another service's httpx client) reaches them through a uvicorn server that
runs as a task of the same loop.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI


def free_socket() -> socket.socket:
    """A TCP socket bound to a free port of 127.0.0.1, not listening yet: until it is
    served, a connection to it is refused at once (it never hangs)."""
    # IPPROTO_TCP named: asyncio turns Nagle off (TCP_NODELAY) only on sockets that say they
    # are TCP; without it every keep-alive answer waits ~40 ms for a delayed ACK
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}"


@asynccontextmanager
async def serving(app: FastAPI, sock: socket.socket) -> AsyncIterator[str]:
    """Serve `app` (whose lifespan the caller already runs) on `sock`; yield its base URL."""
    config = uvicorn.Config(app, lifespan="off", log_level="error", access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name=f"uvicorn {url_of(sock)}")

    async with asyncio.timeout(10):
        while not server.started:
            if task.done():
                task.result()  # serving ended before it started: raise its error here
                raise AssertionError(f"uvicorn on {url_of(sock)} stopped before it started")
            await asyncio.sleep(0.01)
    try:
        yield url_of(sock)
    finally:
        server.should_exit = True
        await task
