"""A session as the store keeps it: sealed under a hash of its id, opened only in its own row
and with a configured key, written only when it changed or its expiry is due, and a store
out of reach is a page that says so."""

from __future__ import annotations

import os

import httpx

from services.common.settings import Settings
from services.web.main import build
from services.web.people import DEMO_PEOPLE
from services.web.session import MemorySessions, Sealer, SessionStore, id_hash


class Counting(MemorySessions):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    async def write(
        self, row: bytes, kid: str, sealed: bytes, expires: float, *, new: bool
    ) -> None:
        self.writes += 1
        await super().write(row, kid, sealed, expires, new=new)


async def stored_session(store: SessionStore) -> str:
    session = store.new()
    session.person = DEMO_PEOPLE[0]
    session.token = "the-platforms-token"
    await store.save(session)
    return session.id


async def test_data_opens_only_in_its_own_row_and_with_a_configured_key() -> None:
    old, new = os.urandom(32), os.urandom(32)
    backend = MemorySessions()
    store = SessionStore(backend, Sealer(old), 3600)
    first, second = await stored_session(store), await stored_session(store)
    loaded = await store.load(first)
    assert loaded is not None and loaded.person == DEMO_PEOPLE[0]

    rotated = SessionStore(backend, Sealer(new, [old]), 3600)
    assert (await rotated.load(first)) is not None  # the old key still opens it
    assert (await SessionStore(backend, Sealer(new), 3600).load(first)) is None  # removed

    rows = backend._rows
    rows[id_hash(second)] = rows[id_hash(first)]  # one row's data copied into another's
    assert await store.load(second) is None
    kid, sealed, expires = rows[id_hash(first)]
    rows[id_hash(first)] = (kid, sealed[:-1] + bytes([sealed[-1] ^ 1]), expires)  # tampered
    assert await store.load(first) is None


async def test_an_unchanged_session_is_written_again_only_when_its_expiry_is_due() -> None:
    backend = Counting()
    store = SessionStore(backend, Sealer(os.urandom(32)), 3600)
    session_id = await stored_session(store)
    session = await store.load(session_id)
    assert session is not None
    await store.save(session)
    assert backend.writes == 1  # unchanged, and its expiry is fresh
    session.flash.append("Sparat.")
    await store.save(session)
    assert backend.writes == 2
    session.expires -= 61  # a minute on
    await store.save(session)
    assert backend.writes == 3


class Unreachable(MemorySessions):
    async def read(self, row: bytes) -> tuple[str, bytes, float] | None:
        raise OSError("connection refused")


async def test_a_session_store_out_of_reach_is_a_503_page_that_says_sign_in_is_down() -> None:
    app = build(Settings(env="test"), transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    async with app.router.lifespan_context(app):
        app.state.sessions.backend = Unreachable()
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="https://web"
        ) as browser:
            browser.cookies.set("lifecare_session", "some-id")
            page = await browser.get("/")
    assert page.status_code == 503
    assert "Tjänsten för inloggning svarar inte just nu" in page.text
