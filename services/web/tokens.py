"""The token a session calls the services with: for the signed-in person, in the role and
unit they chose, short-lived and renewed while the session lives."""

from __future__ import annotations

import time
from datetime import timedelta

from services.common.auth import issue_token
from services.common.settings import Settings
from services.web.session import Session

TOKEN_TTL = timedelta(minutes=15)


def renew(settings: Settings, session: Session) -> None:
    """Give the session a fresh token for its person and chosen membership."""
    assert session.person is not None and session.membership is not None
    session.token = issue_token(
        settings,
        sub=session.person.sub,
        name=session.person.name,
        role=session.membership.role,
        unit=session.membership.unit,
        ttl=TOKEN_TTL,
    )
    session.token_expires = time.time() + TOKEN_TTL.total_seconds()
