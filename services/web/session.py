"""Signed-in sessions, kept on the server: the browser's cookie holds only a random id."""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field

from services.web.oidc import Pending
from services.web.people import Membership, Person

COOKIE = "lifecare_session"


@dataclass
class Session:
    """One signed-in person in one browser."""

    id: str
    csrf: str
    person: Person | None = None
    membership: Membership | None = None  # the chosen role and unit
    token: str = ""  # the platform's token for that person, role and unit
    token_expires: float = 0.0
    last_seen: float = field(default_factory=time.monotonic)
    # one-time form ids: a form's id is spent by its first post; a second post of the same
    # form (a double click) waits for the first and is shown the same result
    forms: dict[str, asyncio.Future[str] | None] = field(default_factory=dict)
    flash: list[str] = field(default_factory=list)
    unit_names: dict[str, str] = field(default_factory=dict)  # of the person's units
    pending: Pending | None = None  # a sign-in started at the identity provider
    id_token: str = ""  # the provider's ID token of this sign-in (kept here, never sent on)
    # signed in at the provider, but the platform gives the person no access: their name
    no_access: str = ""

    @property
    def signed_in(self) -> bool:
        return self.person is not None

    @property
    def ready(self) -> bool:
        """Signed in, with a role and unit chosen."""
        return self.person is not None and self.membership is not None

    def new_form(self) -> str:
        """A fresh one-time id for a form that must take effect once."""
        form_id = secrets.token_urlsafe(16)
        if len(self.forms) > 200:  # forms opened and never sent: forget the oldest
            for stale in list(self.forms)[:100]:
                self.forms.pop(stale, None)
        self.forms[form_id] = None
        return form_id


class SessionStore:
    """Sessions in this process's memory, ended after `idle_seconds` without a request;
    a person's saved choice of role and unit ("Spara mitt val") outlives their sessions."""

    def __init__(self, idle_seconds: float) -> None:
        self.idle_seconds = idle_seconds
        self._sessions: dict[str, Session] = {}
        self.saved_choices: dict[str, Membership] = {}

    def new(self) -> Session:
        self._forget_idle()
        session = Session(id=secrets.token_urlsafe(32), csrf=secrets.token_urlsafe(32))
        self._sessions[session.id] = session
        return session

    def get(self, session_id: str | None) -> Session | None:
        """The live session of this id, or None when unknown or idle too long."""
        session = self._sessions.get(session_id or "")
        if session is None:
            return None
        now = time.monotonic()
        if now - session.last_seen > self.idle_seconds:
            del self._sessions[session.id]
            return None
        session.last_seen = now
        return session

    def of_person(self, sub: str) -> list[Session]:
        """The live sessions of a person (operations, and tests)."""
        return [s for s in self._sessions.values() if s.person is not None and s.person.sub == sub]

    def end(self, session: Session) -> None:
        self._sessions.pop(session.id, None)

    def _forget_idle(self) -> None:
        now = time.monotonic()
        for stale in [s for s in self._sessions.values() if now - s.last_seen > self.idle_seconds]:
            del self._sessions[stale.id]
