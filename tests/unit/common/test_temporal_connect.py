"""How the platform reaches Temporal (services/common/temporal.py's connect): mTLS or an API
key from the settings, and a process of production refusing to connect with neither."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from temporalio.client import Client
from temporalio.service import TLSConfig

from services.common import temporal
from services.common.settings import Settings

REAL_SECRET = "a-real-production-secret-0123456789abcdef"
REAL_PAYLOAD_KEY = "cmVhbC1wcm9kdWN0aW9uLXBheWxvYWQta2V5LTMyYnk="


def _settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    for name in list(os.environ):
        if name.upper().startswith("LIFECARE_"):
            monkeypatch.delenv(name)
    for key, value in env.items():
        monkeypatch.setenv(f"LIFECARE_{key.upper()}", value)
    return Settings(_env_file=None)  # type: ignore[call-arg]


def _production(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    return _settings(
        monkeypatch, env="production", jwt_secret=REAL_SECRET, payload_key=REAL_PAYLOAD_KEY, **env
    )


@pytest.fixture
def pems(tmp_path: Path) -> dict[str, str]:
    files = {}
    for name in ("cert", "key", "ca"):
        path = tmp_path / f"{name}.pem"
        path.write_bytes(f"-----BEGIN {name.upper()}-----\n{name}\n".encode())
        files[name] = str(path)
    return files


@pytest.fixture
def connected(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What connect hands the SDK, without a server."""
    seen: dict[str, Any] = {}

    async def fake_connect(target: str, **kwargs: Any) -> str:
        seen.update(kwargs, target=target)
        return "client"

    monkeypatch.setattr(Client, "connect", fake_connect)
    return seen


async def test_connect_builds_mtls_from_the_settings_files(monkeypatch, pems, connected):
    settings = _production(
        monkeypatch,
        temporal_address="temporal.example.se:7233",
        temporal_tls_cert=pems["cert"],
        temporal_tls_key=pems["key"],
        temporal_tls_ca=pems["ca"],
        temporal_tls_server_name="temporal.internal",
    )

    await temporal.connect(settings)

    tls = connected["tls"]
    assert isinstance(tls, TLSConfig)
    assert tls.client_cert == b"-----BEGIN CERT-----\ncert\n"
    assert tls.client_private_key == b"-----BEGIN KEY-----\nkey\n"
    assert tls.server_root_ca_cert == b"-----BEGIN CA-----\nca\n"
    assert tls.domain == "temporal.internal"
    assert connected["api_key"] is None
    assert connected["target"] == "temporal.example.se:7233"


async def test_connect_sends_an_api_key_over_tls(monkeypatch, connected):
    settings = _production(monkeypatch, temporal_api_key="tmprl-key-123")

    await temporal.connect(settings)

    assert connected["api_key"] == "tmprl-key-123"
    assert connected["tls"] is True
    assert "tmprl-key-123" not in repr(settings)


async def test_an_api_key_with_a_private_ca_trusts_that_ca(monkeypatch, pems, connected):
    settings = _production(monkeypatch, temporal_api_key="k", temporal_tls_ca=pems["ca"])
    await temporal.connect(settings)
    assert connected["tls"].server_root_ca_cert == b"-----BEGIN CA-----\nca\n"
    assert connected["tls"].client_cert is None
    assert connected["api_key"] == "k"


@pytest.mark.parametrize("env", ["development", "test"])
async def test_development_and_tests_connect_in_plain_text_as_before(monkeypatch, connected, env):
    await temporal.connect(_settings(monkeypatch, env=env))
    assert connected["tls"] is False and connected["api_key"] is None


async def test_production_refuses_to_connect_without_mtls_or_an_api_key(monkeypatch, connected):
    settings = _production(monkeypatch)  # the web UI, which never connects, starts

    with pytest.raises(ValueError) as refused:
        await temporal.connect(settings)

    message = str(refused.value)
    assert "production reaches Temporal with mTLS or an API key" in message
    assert "LIFECARE_TEMPORAL_TLS_CERT" in message and "LIFECARE_TEMPORAL_API_KEY" in message
    assert connected == {}  # no connection was tried


async def test_production_in_plain_text_only_when_the_setting_says_so(monkeypatch, connected):
    settings = _production(monkeypatch, temporal_insecure="true")
    await temporal.connect(settings)
    assert connected["tls"] is False


def test_a_certificate_without_its_key_is_refused(monkeypatch, pems):
    with pytest.raises(ValidationError, match="go together"):
        _settings(monkeypatch, temporal_tls_cert=pems["cert"])


def test_a_path_that_names_no_file_is_refused_at_start(monkeypatch, pems, tmp_path):
    with pytest.raises(ValidationError, match="LIFECARE_TEMPORAL_TLS_KEY names no file"):
        _production(
            monkeypatch,
            temporal_tls_cert=pems["cert"],
            temporal_tls_key=str(tmp_path / "missing.pem"),
        )


def test_an_empty_api_key_is_refused(monkeypatch):
    with pytest.raises(ValidationError, match="LIFECARE_TEMPORAL_API_KEY is empty"):
        _production(monkeypatch, temporal_api_key="")
