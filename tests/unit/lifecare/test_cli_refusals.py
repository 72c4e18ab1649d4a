"""The command line refuses a production worker that would reach Temporal in plain text,
with the reason and exit status 2, before it connects anywhere."""

from __future__ import annotations

import pytest

from lifecare import cli
from services.common.settings import get_settings


def test_a_production_worker_without_mtls_or_an_api_key_is_refused_with_the_reason(
    monkeypatch, capsys
) -> None:
    monkeypatch.setenv("LIFECARE_ENV", "production")
    monkeypatch.setenv("LIFECARE_JWT_SECRET", "a-real-secret-of-production-length-0123456789")
    monkeypatch.setenv("LIFECARE_PAYLOAD_KEY", "cHJvZHVjdGlvbi1wYXlsb2FkLWtleS0zMi1ieXRlcyE=")
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as refused:
            cli.main(["worker"])
    finally:
        get_settings.cache_clear()
    assert refused.value.code == 2
    assert "LIFECARE_TEMPORAL_API_KEY" in capsys.readouterr().err


def test_a_production_web_ui_without_an_identity_provider_is_refused_with_the_reason(
    monkeypatch, capsys
) -> None:
    monkeypatch.setenv("LIFECARE_ENV", "production")
    monkeypatch.setenv("LIFECARE_JWT_SECRET", "a-real-secret-of-production-length-0123456789")
    monkeypatch.setenv("LIFECARE_PAYLOAD_KEY", "cHJvZHVjdGlvbi1wYXlsb2FkLWtleS0zMi1ieXRlcyE=")
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as refused:
            cli.main(["serve", "web"])
    finally:
        get_settings.cache_clear()
    assert refused.value.code == 2
    assert "LIFECARE_OIDC_ISSUER" in capsys.readouterr().err
