"""Raw bodies that schemathesis never writes, sent to every JSON route of every service and to
the codec server over real HTTP: full Unicode with lone surrogates, NaN, Infinity, 1e999,
deep nesting and bytes that are not UTF-8, in bodies shaped like each route's own (its
property names, from the OpenAPI). No answer is a 5xx or a dropped connection; a body with
one of those values in it is refused before any route (422; the codec server 400) with a
message that names it.

Hypothesis draws the bodies (seeded, no database) before the requests go out: the stack runs
on the session's event loop, where a synchronous `@given` cannot wait for an answer.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from lifecare import codec_server
from tests.integration.security.conftest import FuzzStack
from tests.integration.serving import free_socket, serving

SEED = 20261202
EXAMPLES = 100  # bodies per route; 17 routes and the codec server's two: 2 100 requests
# each poison is written into the body's JSON text as it stands here (json.dumps cannot)
POISONS = {
    "lone surrogate": ('"\\ud800"', "lone surrogate"),
    "low surrogate in a text": ('"Sven \\udfff Berg"', "lone surrogate"),
    "NaN": ("NaN", "NaN is not a JSON number"),
    "Infinity": ("Infinity", "Infinity is not a JSON number"),
    "-Infinity": ("-Infinity", "-Infinity is not a JSON number"),
    "1e999": ("1e999", "is too large"),
    "deep nesting": ("[" * 40 + "]" * 40, "nested deeper"),
    "very deep nesting": ("[" * 50_000 + "]" * 50_000, "nested deeper"),
}
MARK = "\x00poison\x00"


@dataclass(frozen=True)
class Case:
    method: str
    route: str  # the path as the OpenAPI names it
    path: str
    body: bytes
    poison: str | None  # which poison it holds, if any


# clean values of every JSON kind, full Unicode but for surrogates (they are poisons)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=300),
    st.dates().map(str),
    st.uuids().map(str),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


def _properties(spec: dict[str, Any], operation: dict[str, Any]) -> list[str]:
    """The property names of an operation's JSON body (a list body: of its items)."""
    schema = operation["requestBody"]["content"].get("application/json", {}).get("schema", {})
    schema = schema.get("items", schema)
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return sorted(schema.get("properties", {}))


def _fill(path: str) -> str:
    return "/".join(str(uuid.uuid4()) if part.startswith("{") else part for part in path.split("/"))


def _write(value: Any, poison: str | None) -> bytes:
    text = json.dumps(value, ensure_ascii=False)
    if poison is not None:
        text = text.replace(json.dumps(MARK), POISONS[poison][0], 1)
    return text.encode("utf-8", "surrogatepass")


def _bodies(properties: list[str], count: int) -> list[tuple[bytes, str | None]]:
    """`count` bodies with the route's property names (and a few others): about half hold
    one poison somewhere, a few are not UTF-8, the rest are clean."""
    names = st.sampled_from([*properties, "extra"]) if properties else st.text(max_size=8)
    drawn: list[tuple[bytes, str | None]] = []

    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @seed(SEED)
    @given(
        body=st.dictionaries(names, values, max_size=len(properties) + 1),
        poison=st.one_of(st.none(), st.sampled_from(sorted(POISONS))),
        where=st.integers(min_value=0, max_value=20),
        list_body=st.booleans(),
        not_utf8=st.integers(min_value=0, max_value=15),
    )
    def draw(
        body: dict[str, Any], poison: str | None, where: int, list_body: bool, not_utf8: int
    ) -> None:
        if poison is not None:
            keys = [*properties, "extra"] if properties else ["x"]
            body[keys[where % len(keys)]] = [MARK] if where > 15 else MARK
        if not_utf8 == 0:
            drawn.append((_write(body, None)[:-1] + b"\xff\xfe}", "not UTF-8"))
            return
        payload: Any = [body] if list_body and where % 3 == 0 else body
        drawn.append((_write(payload, poison), poison))

    draw()
    return drawn


def _cases(spec: dict[str, Any]) -> list[Case]:
    cases = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                continue
            for body, poison in _bodies(_properties(spec, operation), EXAMPLES):
                cases.append(Case(method.upper(), path, _fill(path), body, poison))
    return cases


async def _send_all(
    client: httpx.AsyncClient, cases: list[Case], headers: dict[str, str]
) -> list[tuple[Case, httpx.Response]]:
    limit = asyncio.Semaphore(4)

    async def one(case: Case) -> tuple[Case, httpx.Response]:
        async with limit:
            response = await client.request(
                case.method,
                case.path,
                content=case.body,
                headers={**headers, "content-type": "application/json"},
            )
            return case, response

    return await asyncio.gather(*(one(case) for case in cases))


def _says(response: httpx.Response) -> str:
    body = response.json()
    if "detail" in body:
        return " ".join(item["msg"] for item in body["detail"])
    return body["error"]["message"]


# the JSON body routes of each service today: a route that stops taking JSON fails here
JSON_ROUTES = {"orders": 6, "absence": 2, "billing": 3, "messaging": 3, "identity": 3}
ROLES = {"orders": "caseworker", "absence": "provider", "billing": "fee_admin", "identity": "admin"}


@pytest.mark.parametrize("service", ["orders", "absence", "billing", "messaging", "identity"])
async def test_no_raw_body_gets_a_server_error_and_every_poison_a_422(
    fuzz_stack: FuzzStack, service: str
):
    headers = {"Authorization": f"Bearer {fuzz_stack.token(ROLES.get(service, 'provider'))}"}
    async with httpx.AsyncClient(base_url=fuzz_stack.urls[service], timeout=30) as client:
        spec = (await client.get("/openapi.json")).json()
        cases = _cases(spec)
        answers = await _send_all(client, cases, headers)
    routes = {(case.method, case.route) for case in cases}
    assert len(routes) >= JSON_ROUTES[service], routes
    server_errors = [(c.method, c.path, r.status_code) for c, r in answers if r.status_code >= 500]
    assert server_errors == []
    for case, response in answers:
        if case.poison is None:
            assert response.status_code < 500
            continue
        assert response.status_code == 422, (case, response.text)
        expected = (
            "the body is not UTF-8" if case.poison == "not UTF-8" else POISONS[case.poison][1]
        )
        assert expected in _says(response), (case.poison, response.text)
    poisoned = sum(case.poison is not None for case in cases)
    assert poisoned > len(cases) // 3
    print(
        f"\n{service}: {len(routes)} routes, {len(cases)} raw bodies, {poisoned} poisoned, no 5xx"
    )


@pytest.fixture
async def codec_url(fuzz_stack: FuzzStack) -> AsyncIterator[str]:
    app: FastAPI = codec_server.build(fuzz_stack.settings)
    sock = free_socket()
    try:
        async with serving(app, sock) as url:
            yield url
    finally:
        sock.close()


def _codec_bodies() -> list[tuple[bytes, str | None]]:
    drawn: list[tuple[bytes, str | None]] = []

    @settings(max_examples=EXAMPLES * 2, database=None, deadline=None)
    @seed(SEED)
    @given(
        metadata=st.dictionaries(st.text(max_size=10), values, max_size=3),
        data=values,
        poison=st.one_of(st.none(), st.sampled_from(sorted(POISONS))),
        in_data=st.booleans(),
    )
    def draw(metadata: dict[str, Any], data: Any, poison: str | None, in_data: bool) -> None:
        payload: dict[str, Any] = {"metadata": metadata, "data": data}
        if poison is not None:
            if in_data:
                payload["data"] = MARK
            else:
                payload["metadata"]["encoding"] = MARK
        drawn.append((_write({"payloads": [payload]}, poison), poison))

    draw()
    return drawn


async def test_the_codec_server_answers_no_raw_body_with_a_server_error(
    codec_url: str,
):
    bodies = _codec_bodies()
    cases = [
        Case("POST", path, path, body, poison)
        for path in ("/encode", "/decode")
        for body, poison in bodies
    ]
    async with httpx.AsyncClient(base_url=codec_url, timeout=30) as client:
        answers = await _send_all(client, cases, {})
    for case, response in answers:
        assert response.status_code < 500, (case, response.text)
        if case.poison is not None:
            assert response.status_code == 400, (case, response.text)
            assert response.json()["error"]["code"] == "bad_payloads"
    statuses = sorted({response.status_code for _, response in answers})
    print(f"\ncodec: {len(cases)} raw bodies, statuses {statuses}, no 5xx")
