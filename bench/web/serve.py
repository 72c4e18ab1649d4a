"""The web UI as the bench serves it: its own process, the product's app, plus the bench's
signed-in people (providers of the bench's unit) and a count of the calls it makes.

    python -m bench.web.serve --unit <unit id> --users 50 --port 8090
"""

from __future__ import annotations

import argparse
import time

import httpx
import uvicorn
from fastapi.responses import JSONResponse

from services.common.auth import Role
from services.common.settings import Settings, get_settings
from services.web.client import service_transport
from services.web.main import build
from services.web.people import Membership, Person


class Counting(httpx.AsyncBaseTransport):
    """The web UI's transports to the services (the product's pool per service), counting
    and timing each call by path until its answer is read."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.inner: dict[tuple[str, int | None], httpx.AsyncHTTPTransport] = {}
        self.calls: dict[str, int] = {}
        self.seconds: dict[str, list[float]] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        key = f"{request.method} {request.url.host}:{request.url.port}{request.url.path}"
        self.calls[key] = self.calls.get(key, 0) + 1
        origin = (request.url.host, request.url.port)
        if origin not in self.inner:
            self.inner[origin] = service_transport(self.settings)
        started = time.perf_counter()
        response = await self.inner[origin].handle_async_request(request)
        await response.aread()
        self.seconds.setdefault(key, []).append(time.perf_counter() - started)
        return response

    async def aclose(self) -> None:
        for inner in self.inner.values():
            await inner.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--unit", required=True)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--port", type=int, default=8090)
    args = parser.parse_args()
    settings = get_settings()
    counting = Counting(settings)
    app = build(settings, transport=counting)
    for index in range(args.users):
        app.state.people.add(
            Person(
                f"bench{index}", f"Bench Person {index}", (Membership(Role.provider, args.unit),)
            )
        )

    @app.get("/_bench/calls")
    async def calls() -> JSONResponse:
        return JSONResponse({"calls": counting.calls, "seconds": counting.seconds})

    @app.post("/_bench/calls/reset")
    async def reset() -> JSONResponse:
        counting.calls.clear()
        counting.seconds.clear()
        return JSONResponse({})

    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
