"""The web UI's unit tests run it without a database: its sessions in memory."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def sessions_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIFECARE_WEB_SESSIONS", "memory")
