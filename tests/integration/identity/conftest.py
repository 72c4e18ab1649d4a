"""A client of the identity service (served by tests/integration/conftest.py's identity_url)
and the web UI's service credential."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest


@pytest.fixture
async def identity(identity_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=identity_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def web_ui(settings) -> dict[str, str]:
    """The web UI's service credential, as it calls /tokens and /people/..."""
    return {"Authorization": f"Bearer {settings.identity_client_secret.get_secret_value()}"}
