"""The identity service over real HTTP, at the URL the other services fetch its JWKS from."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.integration.serving import serving


@pytest.fixture(scope="session")
async def identity_url(identity_app, service_sockets) -> AsyncIterator[str]:
    async with serving(identity_app, service_sockets["identity"]) as url:
        yield url


@pytest.fixture
async def identity(identity_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=identity_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def web_ui(settings) -> dict[str, str]:
    """The web UI's service credential, as it calls /tokens and /people/..."""
    return {"Authorization": f"Bearer {settings.identity_client_secret.get_secret_value()}"}
