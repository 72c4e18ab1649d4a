"""The worker's health port: `GET /health` answers 200 while it runs and reaches its
database, 503 when it does not (a cluster's readiness probe); `GET /metrics` the process's
Prometheus metrics (its event bridge's counters and dead-letter depth); nothing else is
served. The Temporal SDK's own metrics are on another port (worker_metrics_port)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from prometheus_client import CONTENT_TYPE_LATEST

log = logging.getLogger(__name__)

Check = Callable[[], Awaitable[bool]]
Metrics = Callable[[], Awaitable[bytes]]
JSON = b"application/json"


async def serve_health(
    port: int, healthy: Check, metrics: Metrics | None = None
) -> asyncio.Server | None:
    """Listen on `port` of every interface; None (and a warning) when it is taken."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readline(), timeout=5)
            if metrics is not None and request.startswith(b"GET /metrics "):
                status, kind, body = b"200 OK", CONTENT_TYPE_LATEST.encode(), await metrics()
            else:
                ok = request.startswith(b"GET /health ") and await _safely(healthy)
                status = b"200 OK" if ok else b"503 Service Unavailable"
                body = b'{"status":"ok"}' if ok else b'{"status":"unavailable"}'
                kind = JSON
            writer.write(
                b"HTTP/1.1 " + status + b"\r\nContent-Type: " + kind + b"\r\n"
                b"Content-Length: "
                + str(len(body)).encode()
                + b"\r\nConnection: close\r\n\r\n"
                + body
            )
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    try:
        return await asyncio.start_server(answer, host="0.0.0.0", port=port)
    except OSError as exc:
        log.warning("worker health port %s not opened: %s", port, exc.strerror)
        return None


async def _safely(healthy: Check) -> bool:
    try:
        return await asyncio.wait_for(healthy(), timeout=3)
    except Exception:
        return False
