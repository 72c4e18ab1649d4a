"""Two replicas of the web UI on one database, behind a balancer that sends each request
where the test says: a session begun on one is the same session on the other, before and
after the first stops; signing out on one signs out on both; a form posted to both at once
takes effect once; a sign-in started at the provider on one finishes on the other; the saved
choice of role and unit is the same on both; a forged cookie is the sign-in page. The
services behind the web UI are answered here (tests/unit/web/test_shell.py's stand-ins)."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from services.common.auth import Role
from services.common.settings import Settings
from services.web.main import build
from services.web.people import Membership, Person
from tests.unit.web.test_shell import csrf_of, ordinary
from tests.unit.web.test_signin_oidc import CLIENT, ISSUER, Provider, flow

Handler = Callable[[httpx.Request], Any]


class Balancer(httpx.AsyncBaseTransport):
    """Sends a request to the replica its `X-Replica` header names (the first by default)."""

    def __init__(self, replicas: dict[str, FastAPI]) -> None:
        self.replicas = {name: httpx.ASGITransport(app=app) for name, app in replicas.items()}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.replicas[request.headers.get("x-replica", "a")].handle_async_request(
            request
        )


class Replicas:
    """Two web UIs on the database `dsn`, started and stopped by the test."""

    def __init__(self, dsn: str, services: Handler, **settings: Any) -> None:
        config = Settings(env="test", database_url=dsn, web_sessions="database", **settings)
        transport = httpx.MockTransport(services)
        self.apps = {name: build(config, transport=transport) for name in ("a", "b")}
        self.running: dict[str, AsyncExitStack] = {}

    async def start(self) -> None:
        for name, app in self.apps.items():
            self.running[name] = AsyncExitStack()
            await self.running[name].enter_async_context(app.router.lifespan_context(app))

    async def stop(self, name: str) -> None:
        await self.running.pop(name).aclose()

    async def stop_all(self) -> None:
        for name in list(self.running):
            await self.stop(name)

    def person(self) -> str:
        """A caseworker of this test only (a saved choice is kept per person); their user
        name, and their name is `Name <user name>`."""
        user = f"cw-{secrets.token_hex(4)}"
        for app in self.apps.values():
            app.state.people.add(Person(user, f"Name {user}", (Membership(Role.caseworker),)))
        return user

    def browser(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=Balancer(self.apps), base_url="https://web")


@pytest.fixture
async def replicas(database: str) -> AsyncIterator[Replicas]:
    replicas = Replicas(database, ordinary)
    await replicas.start()
    yield replicas
    await replicas.stop_all()


A = {"X-Replica": "a"}
B = {"X-Replica": "b"}


async def sign_in(browser: httpx.AsyncClient, user: str, *, save: bool = False) -> None:
    page = await browser.get("/logga-in", headers=A)
    answer = await browser.post(
        "/logga-in", data={"csrf": csrf_of(page.text), "user": user}, headers=A
    )
    assert (answer.status_code, answer.headers["location"]) == (303, "/val")
    choice = await browser.get("/val", headers=A)
    form = {"csrf": csrf_of(choice.text), "role": "caseworker", "next": "/"}
    answer = await browser.post("/val", data=form | ({"save": "1"} if save else {}), headers=A)
    assert (answer.status_code, answer.headers["location"]) == (303, "/")


async def test_a_session_begun_on_one_replica_is_signed_in_on_the_other_even_after_it_stops(
    replicas: Replicas,
) -> None:
    async with replicas.browser() as browser:
        user = replicas.person()
        await sign_in(browser, user)
        on_b = await browser.get("/", headers=B)
        assert on_b.status_code == 200
        assert "Startsida" in on_b.text and f"Name {user}" in on_b.text
        await replicas.stop("a")  # a pod restarted, or the balancer moved the person
        again = await browser.get("/", headers=B)
        assert again.status_code == 200 and f"Name {user}" in again.text


async def test_signing_out_on_one_replica_signs_out_on_the_other(replicas: Replicas) -> None:
    async with replicas.browser() as browser:
        await sign_in(browser, replicas.person())
        assert (await browser.get("/", headers=B)).status_code == 200  # signed in on both
        start = await browser.get("/", headers=A)
        cookie = browser.cookies["lifecare_session"]
        out = await browser.post("/logga-ut", data={"csrf": csrf_of(start.text)}, headers=A)
        assert out.headers["location"] == "/logga-in?utloggad=1"
        browser.cookies.set("lifecare_session", cookie)  # the old tab still sends it
        on_b = await browser.get("/", headers=B)
        assert (on_b.status_code, on_b.headers["location"]) == (303, "/logga-in")


@pytest.mark.parametrize("cookie", ["forged", secrets.token_urlsafe(32), "x" * 5000])
async def test_a_forged_or_unknown_cookie_gets_the_sign_in_page(
    replicas: Replicas, cookie: str
) -> None:
    async with replicas.browser() as browser:
        browser.cookies.set("lifecare_session", cookie)
        start = await browser.get("/", headers=B)
        assert (start.status_code, start.headers["location"]) == (303, "/logga-in")
        page = await browser.get("/logga-in", headers=B)
        assert page.status_code == 200
        assert "Logga in" in page.text


async def test_the_database_holds_neither_the_cookies_id_nor_the_token_in_the_clear(
    replicas: Replicas, database: str
) -> None:
    async with replicas.browser() as browser:
        user = replicas.person()
        await sign_in(browser, user)
        cookie = browser.cookies["lifecare_session"]
    session = await replicas.apps["a"].state.sessions.load(cookie)
    assert session is not None and session.token
    conn = await asyncpg.connect(database)
    try:
        rows = await conn.fetch("SELECT id_hash, key_id, data FROM web.sessions")
    finally:
        await conn.close()
    assert hashlib.sha256(cookie.encode()).digest() in {bytes(r["id_hash"]) for r in rows}
    stored = b"".join(bytes(r["id_hash"]) + r["key_id"].encode() + bytes(r["data"]) for r in rows)
    for secret in (cookie, session.token, session.csrf, f"Name {user}"):
        assert secret.encode() not in stored


async def test_the_saved_choice_is_the_same_on_every_replica(replicas: Replicas) -> None:
    async with replicas.browser() as browser:
        user = replicas.person()
        await sign_in(browser, user, save=True)
    async with replicas.browser() as elsewhere:  # another day, another replica
        page = await elsewhere.get("/logga-in", headers=B)
        answer = await elsewhere.post(
            "/logga-in", data={"csrf": csrf_of(page.text), "user": user}, headers=B
        )
        assert (answer.status_code, answer.headers["location"]) == (303, "/")


async def _until(condition: Callable[[], Any], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not await condition():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        await asyncio.sleep(0.02)


async def test_a_form_posted_to_both_replicas_at_once_takes_effect_once(database: str) -> None:
    """The first post holds its form's id while it runs; the second, on the other replica,
    waits for it in PostgreSQL and is sent where the first led."""
    deletes: list[str] = []
    watcher = await asyncpg.connect(database)

    async def second_post_waiting() -> bool:
        waiting = await watcher.fetchval(
            """SELECT count(*) FROM pg_stat_activity
               WHERE datname = current_database() AND wait_event_type = 'Lock'
                 AND query LIKE 'INSERT INTO web.form_posts%'"""
        )
        return bool(waiting)

    async def services(request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE":
            deletes.append(request.url.path)
            if len(deletes) == 1:  # the effect is under way when the second post comes
                await _until(second_post_waiting)
            return httpx.Response(204)
        return ordinary(request)

    replicas = Replicas(database, services)
    await replicas.start()
    try:
        async with replicas.browser() as browser:
            await sign_in(browser, replicas.person())
            start = await browser.get("/", headers=A)
            form = {"csrf": csrf_of(start.text), "form_id": secrets.token_urlsafe(16)}
            path = "/meddelanden/00000000-0000-0000-0000-000000000042/radera"
            first, second = await asyncio.gather(
                browser.post(path, data=form, headers=A), browser.post(path, data=form, headers=B)
            )
            assert len(deletes) == 1
            for answer in (first, second):
                assert (answer.status_code, answer.headers["location"]) == (303, "/meddelanden")
            shown = await browser.get("/meddelanden", headers=B)
            assert shown.text.count("Meddelandet har raderats.") == 1
    finally:
        await replicas.stop_all()
        await watcher.close()


async def test_a_sign_in_started_on_one_replica_finishes_on_the_other(database: str) -> None:
    provider = Provider()

    def identity(request: httpx.Request) -> httpx.Response:
        held = {"role": "caseworker", "unit": None, "valid_from": "2026-01-01", "valid_to": None}
        return httpx.Response(200, json={"sub": "anna", "name": "Anna A", "memberships": [held]})

    transport = flow(provider, identity)
    replicas = Replicas(
        database,
        transport.handler,  # type: ignore[attr-defined]
        oidc_issuer=ISSUER,
        oidc_client_id=CLIENT,
        oidc_client_secret="s",
    )
    await replicas.start()
    try:
        async with replicas.browser() as browser:
            started = await browser.get("/logga-in", headers=A)
            assert started.headers["location"].startswith(f"{ISSUER}/auth?")
            state = httpx.URL(started.headers["location"]).params["state"]
            session = await replicas.apps["a"].state.sessions.load(
                browser.cookies["lifecare_session"]
            )
            transport.sent["nonce"] = session.pending.nonce  # type: ignore[attr-defined]
            back = await browser.get(f"/logga-in/klar?code=the-code&state={state}", headers=B)
            assert (back.status_code, back.headers["location"]) == (303, "/val")
            choice = await browser.get("/val", headers=A)
            assert choice.status_code == 200 and "Anna A" in choice.text
    finally:
        await replicas.stop_all()
