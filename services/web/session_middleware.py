"""The session of each request: loaded before the route runs, written back (or deleted)
before the answer's first byte leaves, so the next request, on whichever replica, finds it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.web.session import COOKIE, Session, SessionStore

log = logging.getLogger(__name__)

KEY = "lifecare.sessions"  # in the request's scope state
UNAVAILABLE = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError)


@dataclass
class Work:
    """What a request did to sessions: the one it came with (None: none, or signed out),
    those it began, those it ended."""

    current: Session | None
    began: list[Session] = field(default_factory=list)
    ended: list[Session] = field(default_factory=list)

    async def flush(self, store: SessionStore) -> None:
        ended = {id(s) for s in self.ended}
        for session in self.ended:
            await store.end(session)
        kept = {id(s): s for s in (self.current, *self.began) if s is not None}
        for key, session in kept.items():
            if key not in ended:
                await store.save(session)


def _work(connection: HTTPConnection) -> Work | None:
    found: Work | None = connection.scope.get("state", {}).get(KEY)
    return found


def live_session(connection: HTTPConnection) -> Session | None:
    """The session the request came with (or began), if it is live."""
    work = _work(connection)
    return work.current if work else None


def new_session(connection: HTTPConnection) -> Session:
    """A new session for this browser, stored as the answer leaves (the route sets its
    cookie)."""
    work = _work(connection)
    assert work is not None, "SessionMiddleware is not installed"
    session = connection.app.state.sessions.new()
    work.began.append(session)
    work.current = session
    return session


def end_session(connection: HTTPConnection, session: Session) -> None:
    """Sign this session out, on every replica, as the answer leaves."""
    work = _work(connection)
    assert work is not None, "SessionMiddleware is not installed"
    work.ended.append(session)
    if work.current is session:
        work.current = None


class SessionMiddleware:
    """Loads the request's session and stores what the request changed; when the session
    store cannot be reached, answers with `unavailable(scope)` (a 503 page)."""

    def __init__(self, app: ASGIApp, unavailable: Callable[[Scope], Awaitable[Response]]) -> None:
        self.app = app
        self.unavailable = unavailable

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or path.startswith("/static/") or path == "/health":
            await self.app(scope, receive, send)
            return
        store: SessionStore = scope["app"].state.sessions
        state = scope.setdefault("state", {})
        state[KEY] = None
        try:
            work = Work(await store.load(HTTPConnection(scope).cookies.get(COOKIE)))
        except UNAVAILABLE as exc:
            log.warning("the session store cannot be reached: %s", type(exc).__name__)
            await (await self.unavailable(scope))(scope, receive, send)
            return
        state[KEY] = work
        flushed = False

        async def storing(message: Message) -> None:
            nonlocal flushed
            if message["type"] == "http.response.start" and not flushed:
                flushed = True
                await work.flush(store)
            await send(message)

        await self.app(scope, receive, storing)
