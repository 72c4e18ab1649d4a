"""The web UI as the bench serves it: its own process, the product's app, plus the bench's
signed-in people (providers of the bench's unit) and a count of the calls it makes.

    python -m bench.web.serve --unit <unit id> --users 50 --port 8090
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import httpx
import uvicorn
from fastapi.responses import JSONResponse

from services.common.auth import Role
from services.common.settings import Settings, get_settings
from services.web import main as web_main
from services.web.client import Api, service_transport
from services.web.main import build
from services.web.people import Membership, Person


class Counting(httpx.AsyncBaseTransport):
    """The web UI's transports to the services (the product's pool per service), counting
    each call by path."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.inner: dict[tuple[str, int | None], httpx.AsyncHTTPTransport] = {}
        self.calls: dict[str, int] = {}
        self.seconds: dict[str, list[float]] = {}  # filled by Timed

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        key = f"{request.method} {request.url.host}:{request.url.port}{request.url.path}"
        self.calls[key] = self.calls.get(key, 0) + 1
        origin = (request.url.host, request.url.port)
        if origin not in self.inner:
            self.inner[origin] = service_transport(self.settings)
        return await self.inner[origin].handle_async_request(request)

    async def aclose(self) -> None:
        for inner in self.inner.values():
            await inner.aclose()


def timed_api(counting: Counting) -> type[Api]:
    """The web UI's Api, timing each call as the page makes it: from the page's asking,
    through its wait for a turn at the service, until the answer is read."""

    class Timed(Api):
        async def call(  # type: ignore[override]
            self, service: str, method: str, path: str, token: str, **kwargs: Any
        ) -> httpx.Response:
            started = time.perf_counter()
            response = await super().call(service, method, path, token, **kwargs)
            url = httpx.URL(self.base[service] + path)
            key = f"{method} {url.host}:{url.port}{url.path}"
            counting.seconds.setdefault(key, []).append(time.perf_counter() - started)
            return response

    return Timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--unit", required=True)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--port", type=int, default=8090)
    args = parser.parse_args()
    settings = get_settings()
    counting = Counting(settings)
    web_main.Api = timed_api(counting)  # type: ignore[misc]  # the app makes its Api at start
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
