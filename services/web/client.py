"""The web UI's calls to the platform's services: one pooled HTTP client (a pool of
connections per service), the signed-in person's token on every call, and the services'
answers turned into values or errors."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import httpx

from services.common.settings import Settings

log = logging.getLogger(__name__)

SERVICES = ("orders", "absence", "billing", "messaging")
KEEPALIVE_SECONDS = 2.0


@dataclass
class FieldProblem:
    """One field's refusal as a service gave it: its name, the validation kind, the text."""

    field: str
    kind: str
    message: str


@dataclass
class ApiError(Exception):
    """A service refused the request (4xx): its status, code, message and field problems."""

    status: int
    code: str
    message: str
    fields: list[FieldProblem] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.status} {self.code}"


@dataclass
class ServiceDown(Exception):
    """A service did not answer, or answered with a server error."""

    service: str

    def __str__(self) -> str:
        return f"{self.service} is not answering"


def pool_limits(settings: Settings) -> httpx.Limits:
    """The connections the web UI keeps to one service."""
    return httpx.Limits(
        max_connections=settings.web_max_connections,
        max_keepalive_connections=settings.web_max_connections,
        # below the services' own keep-alive (uvicorn: 5 s), so the web UI drops an idle
        # connection before the service closes it under a request
        keepalive_expiry=KEEPALIVE_SECONDS,
    )


def service_transport(settings: Settings) -> httpx.AsyncHTTPTransport:
    """One service's pool of connections."""
    return httpx.AsyncHTTPTransport(limits=pool_limits(settings))


class Api:
    """The four services over one client, with a pool of connections for each.

    A call waits its turn in the web UI when all of its service's connections are busy
    (first come, first served), not in the pool's own queue: the pool looks over every
    connection and every waiting request each time one starts or ends, which under load
    cost the web UI more CPU than the rest of the page (bench/README.md, bench/web)."""

    def __init__(self, settings: Settings, transport: httpx.AsyncBaseTransport | None = None):
        self.base = {
            "orders": settings.orders_url,
            "absence": settings.absence_url,
            "billing": settings.billing_url,
            "messaging": settings.messaging_url,
        }
        self.turns = {name: asyncio.Semaphore(settings.web_max_connections) for name in SERVICES}
        mounts = (
            None
            if transport is not None
            else {url: service_transport(settings) for url in set(self.base.values())}
        )
        self.http = httpx.AsyncClient(
            timeout=settings.peer_timeout.total_seconds(),
            limits=pool_limits(settings),  # elsewhere (the identity service)
            transport=transport,
            mounts=mounts,
        )

    async def close(self) -> None:
        await self.http.aclose()

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        token: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        files: Any = None,
    ) -> httpx.Response:
        """Make one call; raise ApiError for a 4xx and ServiceDown when it does not answer."""
        url = self.base[service] + path
        headers = {"Authorization": f"Bearer {token}"}
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        for attempt in (1, 2):
            try:
                async with self.turns[service]:
                    response = await self.http.request(
                        method, url, params=clean, json=json, files=files, headers=headers
                    )
                break
            except httpx.RemoteProtocolError as exc:
                # a kept-alive connection the service closed as the request went out: a read
                # is asked again once on a fresh one; a change is not (it may have happened)
                if method == "GET" and attempt == 1:
                    continue
                log.warning("%s %s: %s", service, method, type(exc).__name__)
                raise ServiceDown(service) from exc
            except httpx.HTTPError as exc:
                log.warning("%s %s: %s", service, method, type(exc).__name__)
                raise ServiceDown(service) from exc
        if response.status_code >= 500:
            log.warning("%s %s answered %s", service, method, response.status_code)
            raise ServiceDown(service)
        if response.status_code >= 400:
            raise _refusal(response)
        return response

    async def get(self, service: str, path: str, token: str, **params: Any) -> Any:
        return (await self.call(service, "GET", path, token, params=params)).json()

    async def post(self, service: str, path: str, token: str, body: Any = None) -> Any:
        response = await self.call(service, "POST", path, token, json=body)
        return response.json() if response.content else None

    async def patch(self, service: str, path: str, token: str, body: Any) -> Any:
        return (await self.call(service, "PATCH", path, token, json=body)).json()

    async def put(self, service: str, path: str, token: str, body: Any) -> Any:
        return (await self.call(service, "PUT", path, token, json=body)).json()

    async def delete(self, service: str, path: str, token: str) -> None:
        await self.call(service, "DELETE", path, token)

    async def gather(self, **calls: Any) -> dict[str, Any]:
        """Await several calls at once; the answers by name (the first failure raises)."""
        names = list(calls)
        answers = await asyncio.gather(*calls.values())
        return dict(zip(names, answers, strict=True))


def _refusal(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        return ApiError(response.status_code, str(error.get("code")), str(error.get("message")))
    problems = []
    detail = body.get("detail") if isinstance(body, dict) else None
    for item in detail if isinstance(detail, list) else []:
        location = [str(part) for part in item.get("loc", []) if part not in ("body", "query")]
        problems.append(
            FieldProblem(".".join(location), str(item.get("type", "")), str(item.get("msg", "")))
        )
    code = "invalid" if response.status_code == 422 else f"http_{response.status_code}"
    return ApiError(response.status_code, code, response.reason_phrase, problems)
