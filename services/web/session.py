"""Signed-in sessions, kept on the server: the browser's cookie holds only a random id.

A session lives in the web UI's schema (repository.py), so every replica knows it: it is
loaded when a request starts and written back, before the answer leaves, only when it
changed or its expiry is due to be pushed on (at most once a minute). The row is found by
the SHA-256 of the cookie's id and its data is sealed with AES-GCM, so neither the id nor
the tokens it holds lie in the clear in the database. The unit tests keep the same rows in
memory instead (`web_sessions = "memory"`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import re
import secrets
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from services.common.payload_codec import key_id
from services.web.oidc import Pending
from services.web.people import Membership, Person

log = logging.getLogger(__name__)

COOKIE = "lifecare_session"
EXTEND_EVERY = 60.0  # seconds: an unchanged session's expiry is pushed on at most this often
NONCE_BYTES = 12
FORM_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
MEMORY_FORMS = 1000


@dataclass
class Session:
    """One signed-in person in one browser."""

    id: str
    csrf: str
    person: Person | None = None
    membership: Membership | None = None  # the chosen role and unit
    token: str = ""  # the platform's token for that person, role and unit
    token_expires: float = 0.0
    flash: list[str] = field(default_factory=list)
    unit_names: dict[str, str] = field(default_factory=dict)  # of the person's units
    pending: Pending | None = None  # a sign-in started at the identity provider
    id_token: str = ""  # the provider's ID token of this sign-in (kept here, never sent on)
    # signed in at the provider, but the platform gives the person no access: their name
    no_access: str = ""
    # what the store last read or wrote (its JSON) and when that row expires (epoch s)
    stored: bytes | None = field(default=None, repr=False, compare=False)
    expires: float = field(default=0.0, repr=False, compare=False)

    @property
    def signed_in(self) -> bool:
        return self.person is not None

    @property
    def ready(self) -> bool:
        """Signed in, with a role and unit chosen."""
        return self.person is not None and self.membership is not None

    def new_form(self) -> str:
        """A fresh one-time id for a form that must take effect once (spent by its first
        post that takes effect: SessionStore.once)."""
        return secrets.token_urlsafe(16)

    def dump(self) -> bytes:
        """The session's data as JSON (its id is not part of it)."""
        person = self.person
        data = {
            "csrf": self.csrf,
            "person": None
            if person is None
            else {
                "sub": person.sub,
                "name": person.name,
                "memberships": [m.key for m in person.memberships],
            },
            "membership": self.membership.key if self.membership else None,
            "token": self.token,
            "token_expires": self.token_expires,
            "flash": self.flash,
            "unit_names": self.unit_names,
            "pending": asdict(self.pending) if self.pending else None,
            "id_token": self.id_token,
            "no_access": self.no_access,
        }
        return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def load(cls, session_id: str, plain: bytes) -> Session:
        """The session of this id from its JSON (as `dump` wrote it)."""
        data: dict[str, Any] = json.loads(plain)
        person = data["person"]
        return cls(
            id=session_id,
            csrf=data["csrf"],
            person=None
            if person is None
            else Person(
                sub=person["sub"],
                name=person["name"],
                memberships=tuple(Membership.from_key(k) for k in person["memberships"]),
            ),
            membership=Membership.from_key(data["membership"]) if data["membership"] else None,
            token=data["token"],
            token_expires=float(data["token_expires"]),
            flash=list(data["flash"]),
            unit_names=dict(data["unit_names"]),
            pending=Pending(**data["pending"]) if data["pending"] else None,
            id_token=data["id_token"],
            no_access=data["no_access"],
        )


def id_hash(session_id: str) -> bytes:
    """The key of a session's row: the SHA-256 of its cookie's id."""
    return hashlib.sha256(session_id.encode()).digest()


class Sealer:
    """AES-256-GCM over a session's data, with a key derived (HKDF) from each payload key:
    the current one seals, every configured one opens. The row's key is bound in, so data
    copied to another row does not open."""

    def __init__(self, current: bytes, previous: Iterable[bytes] = ()) -> None:
        keys = [self._derive(current), *(self._derive(k) for k in previous)]
        self.key_id = key_id(keys[0])
        self._keys = {key_id(k): AESGCM(k) for k in reversed(keys)}

    @staticmethod
    def _derive(payload_key: bytes) -> bytes:
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"lifecare web sessions")
        return hkdf.derive(payload_key)

    def seal(self, row: bytes, plain: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._keys[self.key_id].encrypt(nonce, plain, row)

    def open(self, row: bytes, kid: str, sealed: bytes) -> bytes | None:
        """The plain data, or None for a key no longer configured or data tampered with."""
        key = self._keys.get(kid)
        if key is None or len(sealed) <= NONCE_BYTES:
            return None
        try:
            return key.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], row)
        except InvalidTag:
            return None


@dataclass
class Claim:
    """A form's one-time id as its post finds it: `earlier` is where a post of the same
    form that took effect led; otherwise this post runs, and sets `url` if it takes effect."""

    earlier: str | None = None
    url: str = ""


class Backend(Protocol):
    """Where sessions are kept: PostgreSQL (repository.py) or memory (MemorySessions)."""

    async def read(self, row: bytes) -> tuple[str, bytes, float] | None:
        """The row's key id, sealed data and expiry (epoch s), unless gone or expired."""

    async def write(
        self, row: bytes, kid: str, sealed: bytes, expires: float, *, new: bool
    ) -> None: ...

    async def delete(self, row: bytes) -> None: ...

    async def choice(self, sub: str) -> Membership | None: ...

    async def keep_choice(self, sub: str, choice: Membership | None) -> None: ...

    def once(self, row: bytes, form_id: str) -> AbstractAsyncContextManager[Claim]:
        """Claim a form's one-time id: held until the post ends, kept if it set `url`."""

    async def close(self) -> None: ...


class SessionStore:
    """Sessions that end after `idle_seconds` without a request; a person's saved choice of
    role and unit ("Spara mitt val") outlives their sessions."""

    def __init__(self, backend: Backend, sealer: Sealer, idle_seconds: float) -> None:
        self.backend = backend
        self.sealer = sealer
        self.idle_seconds = idle_seconds

    def new(self) -> Session:
        """A new session, stored by its first `save`."""
        return Session(id=secrets.token_urlsafe(32), csrf=secrets.token_urlsafe(32))

    async def load(self, session_id: str | None) -> Session | None:
        """The live session of this id, or None when unknown, expired or not ours."""
        if not session_id:
            return None
        row = id_hash(session_id)
        found = await self.backend.read(row)
        if found is None:
            return None
        kid, sealed, expires = found
        plain = self.sealer.open(row, kid, sealed)
        if plain is None:
            log.info("a session's data does not open (its key is gone): signed out")
            return None
        try:
            session = Session.load(session_id, plain)
        except (ValueError, KeyError, TypeError):
            log.warning("a session's data is not what this version writes: signed out")
            return None
        session.stored, session.expires = plain, expires
        return session

    async def save(self, session: Session) -> None:
        """Write the session if it changed, or if its expiry is due to be pushed on."""
        plain = session.dump()
        now = time.time()
        if plain == session.stored and session.expires - now > self.idle_seconds - EXTEND_EVERY:
            return
        row = id_hash(session.id)
        expires = now + self.idle_seconds
        await self.backend.write(
            row,
            self.sealer.key_id,
            self.sealer.seal(row, plain),
            expires,
            new=session.stored is None,
        )
        session.stored, session.expires = plain, expires

    async def end(self, session: Session) -> None:
        """Sign the session out, on every replica."""
        await self.backend.delete(id_hash(session.id))
        session.stored = None

    async def saved_choice(self, sub: str) -> Membership | None:
        return await self.backend.choice(sub)

    async def keep_choice(self, sub: str, choice: Membership | None) -> None:
        """Save the person's choice of role and unit, or forget it (None)."""
        await self.backend.keep_choice(sub, choice)

    @asynccontextmanager
    async def once(self, session: Session, form_id: str) -> AsyncIterator[Claim]:
        """A form's post that must take effect once, whichever replica each post reaches: a
        second post of the same form waits for the first and is shown where it led. A post
        without a proper form id is not guarded."""
        if not FORM_ID.fullmatch(form_id):
            yield Claim()
            return
        async with self.backend.once(id_hash(session.id), form_id) as claim:
            yield claim

    async def close(self) -> None:
        await self.backend.close()


class MemorySessions:
    """The sessions' rows in this process's memory: for tests without a database."""

    def __init__(self) -> None:
        self._rows: dict[bytes, tuple[str, bytes, float]] = {}
        self._choices: dict[str, Membership] = {}
        self._forms: dict[tuple[bytes, str], asyncio.Future[str]] = {}

    async def read(self, row: bytes) -> tuple[str, bytes, float] | None:
        found = self._rows.get(row)
        if found is None or found[2] <= time.time():
            return None
        return found

    async def write(
        self, row: bytes, kid: str, sealed: bytes, expires: float, *, new: bool
    ) -> None:
        if new:
            now = time.time()
            for stale in [r for r, (_, _, at) in self._rows.items() if at <= now]:
                del self._rows[stale]
        self._rows[row] = (kid, sealed, expires)

    async def delete(self, row: bytes) -> None:
        self._rows.pop(row, None)
        for key in [k for k in self._forms if k[0] == row]:
            del self._forms[key]

    async def choice(self, sub: str) -> Membership | None:
        return self._choices.get(sub)

    async def keep_choice(self, sub: str, choice: Membership | None) -> None:
        if choice is None:
            self._choices.pop(sub, None)
        else:
            self._choices[sub] = choice

    @asynccontextmanager
    async def once(self, row: bytes, form_id: str) -> AsyncIterator[Claim]:
        key = (row, form_id)
        earlier = self._forms.get(key)
        if earlier is not None:
            url = await asyncio.shield(earlier)
            if url:
                yield Claim(earlier=url)
                return
        running: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        if len(self._forms) > MEMORY_FORMS:  # forget the oldest posts that are done
            for old in [k for k, f in self._forms.items() if f.done()][: MEMORY_FORMS // 2]:
                del self._forms[old]
        self._forms[key] = running
        claim = Claim()
        try:
            yield claim
        finally:
            running.set_result(claim.url)
            if not claim.url and self._forms.get(key) is running:
                del self._forms[key]  # refused: the same form may be sent again

    async def close(self) -> None:
        return None


__all__ = ["COOKIE", "Claim", "MemorySessions", "Session", "SessionStore"]
