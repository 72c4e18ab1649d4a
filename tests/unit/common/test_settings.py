"""Settings read from LIFECARE_* environment variables (services/common/settings.py)."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr, ValidationError

from services.common.settings import (
    DEVELOPMENT_JWT_SECRET,
    Settings,
    get_settings,
    parse_duration,
)
from services.orders.domain import ReminderPlan

REAL_SECRET = "a-real-production-secret-0123456789abcdef"
REAL_PAYLOAD_KEY = "cmVhbC1wcm9kdWN0aW9uLXBheWxvYWQta2V5LTMyYnk="  # 32 bytes, base64
JWKS_URL = "https://identity.example/.well-known/jwks.json"


def _settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    """Settings from exactly these LIFECARE_* variables, ignoring any .env file."""
    for name in list(os.environ):
        if name.upper().startswith("LIFECARE_"):
            monkeypatch.delenv(name)
    for key, value in env.items():
        monkeypatch.setenv(f"LIFECARE_{key.upper()}", value)
    return Settings(_env_file=None)  # type: ignore[call-arg]


# --- parse_duration ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3d", timedelta(days=3)),
        ("7d", timedelta(days=7)),
        ("90d", timedelta(days=90)),
        ("12h", timedelta(hours=12)),
        ("30m", timedelta(minutes=30)),
        ("10s", timedelta(seconds=10)),
        ("0s", timedelta(0)),
        (" 3d ", timedelta(days=3)),
        ("3 d", timedelta(days=3)),
    ],
)
def test_duration_is_a_number_and_a_unit(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (10, timedelta(seconds=10)),
        (0, timedelta(0)),
        (1.5, timedelta(seconds=1.5)),
        (259200, timedelta(days=3)),
    ],
)
def test_duration_given_as_a_number_is_seconds(number: float, expected: timedelta) -> None:
    assert parse_duration(number) == expected


def test_duration_given_as_a_timedelta_is_kept() -> None:
    assert parse_duration(timedelta(hours=2)) == timedelta(hours=2)


@pytest.mark.parametrize(
    "garbage",
    ["", "d", "3w", "3days", "-3d", "3.5d", "1h30m", "three days", "3d!", None, "P3D"],
)
def test_duration_that_is_not_a_number_and_unit_is_refused_saying_how_to_write_it(
    garbage: object,
) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(garbage)
    assert str(caught.value) == (
        f"not a duration: {garbage!r} (use a number and s, m, h or d, e.g. 3d)"
    )


@given(amount=st.integers(min_value=0, max_value=10_000), unit=st.sampled_from("smhd"))
def test_every_unit_multiplies_the_number_by_its_length(amount: int, unit: str) -> None:
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]
    assert parse_duration(f"{amount}{unit}") == timedelta(seconds=amount * seconds)


# --- Settings from the environment ---------------------------------------------------------


def test_defaults_are_the_development_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(monkeypatch)
    assert settings.env == "development"
    assert settings.database_dsn == "postgresql://postgres@127.0.0.1:5432/lifecare"
    assert str(settings.amqp_url) == "amqp://guest:guest@127.0.0.1:5672/"
    assert settings.temporal_address == "127.0.0.1:7233"
    assert settings.temporal_namespace == "default"
    assert settings.task_queue == "lifecare"
    assert settings.jwt_secret.get_secret_value() == DEVELOPMENT_JWT_SECRET
    assert settings.jwt_algorithm == "HS256"
    assert settings.token_ttl == timedelta(hours=12)
    assert settings.reminder_after == timedelta(days=3)
    assert settings.reminder_every == timedelta(days=7)
    assert settings.ivo_after == timedelta(days=90)
    assert (settings.db_pool_min, settings.db_pool_max, settings.relay_batch) == (1, 10, 200)


def test_every_setting_is_read_from_its_lifecare_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = _settings(
        monkeypatch,
        env="test",
        database_url="postgresql://app@db.example:5433/care",
        amqp_url="amqp://user:pw@mq.example:5673/care",
        temporal_address="temporal.example:7233",
        temporal_namespace="lifecare-test",
        task_queue="lifecare-test",
        jwt_secret=REAL_SECRET,
        jwt_algorithm="HS512",
        token_ttl="30m",
        reminder_after="10s",
        reminder_every="5s",
        ivo_after="60s",
        db_pool_min="2",
        db_pool_max="20",
        relay_batch="50",
    )
    assert settings.env == "test"
    assert settings.database_dsn == "postgresql://app@db.example:5433/care"
    assert str(settings.amqp_url) == "amqp://user:pw@mq.example:5673/care"
    assert settings.temporal_address == "temporal.example:7233"
    assert settings.temporal_namespace == "lifecare-test"
    assert settings.task_queue == "lifecare-test"
    assert settings.jwt_secret.get_secret_value() == REAL_SECRET
    assert settings.jwt_algorithm == "HS512"
    assert settings.token_ttl == timedelta(minutes=30)
    assert settings.reminder_after == timedelta(seconds=10)
    assert settings.reminder_every == timedelta(seconds=5)
    assert settings.ivo_after == timedelta(seconds=60)
    assert (settings.db_pool_min, settings.db_pool_max, settings.relay_batch) == (2, 20, 50)


def test_variable_names_are_case_insensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    _settings(monkeypatch)
    monkeypatch.setenv("lifecare_task_queue", "lower-case")
    assert Settings(_env_file=None).task_queue == "lower-case"  # type: ignore[call-arg]


def test_variables_without_the_lifecare_prefix_are_ignored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TASK_QUEUE", "not-mine")
    monkeypatch.setenv("ENV", "production")
    settings = _settings(monkeypatch)
    assert settings.task_queue == "lifecare"
    assert settings.env == "development"


def test_reminder_durations_from_settings_give_reminders_at_3_10_and_17_days(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from datetime import UTC, datetime

    settings = _settings(monkeypatch)
    plan = ReminderPlan(first_after=settings.reminder_after, every=settings.reminder_every)
    created = datetime(2025, 1, 1, tzinfo=UTC)
    assert [plan.due_at(created, n) - created for n in range(3)] == [
        timedelta(days=3),
        timedelta(days=10),
        timedelta(days=17),
    ]


def test_unknown_environment_name_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError) as caught:
        _settings(monkeypatch, env="staging")
    assert caught.value.errors()[0]["loc"] == ("env",)


@pytest.mark.parametrize("name", ["token_ttl", "reminder_after", "reminder_every", "ivo_after"])
def test_garbage_duration_in_the_environment_is_refused_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        _settings(monkeypatch, **{name: "soon"})
    (error,) = caught.value.errors()
    assert error["loc"] == (name,)
    assert "not a duration: 'soon'" in error["msg"]


def test_garbage_pool_size_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError) as caught:
        _settings(monkeypatch, db_pool_max="many")
    assert caught.value.errors()[0]["loc"] == ("db_pool_max",)


def test_worker_cache_size_is_the_sdks_1000_read_from_its_variable_never_negative(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert _settings(monkeypatch).worker_cached_workflows == 1000
    assert _settings(monkeypatch, worker_cached_workflows="250").worker_cached_workflows == 250
    with pytest.raises(ValidationError) as caught:
        _settings(monkeypatch, worker_cached_workflows="-1")
    assert caught.value.errors()[0]["loc"] == ("worker_cached_workflows",)


def test_garbage_database_url_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError) as caught:
        _settings(monkeypatch, database_url="mysql://somewhere/db")
    assert caught.value.errors()[0]["loc"] == ("database_url",)


def test_another_services_url_is_read_without_its_final_slash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = _settings(monkeypatch, billing_url=" http://billing:8003/ ")
    assert settings.billing_url == "http://billing:8003"
    assert settings.absence_url == "http://127.0.0.1:8002"


@pytest.mark.parametrize("url", ["billing:8003", "ftp://billing", "http://", "http://a b"])
def test_garbage_service_url_is_refused_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        _settings(monkeypatch, billing_url=url)
    assert caught.value.errors()[0]["loc"] == ("billing_url",)


def test_duration_too_large_for_a_timedelta_is_refused_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ValidationError) as caught:
        _settings(monkeypatch, ivo_after="99999999999d")
    assert caught.value.errors()[0]["loc"] == ("ivo_after",)


# --- the JWT secret ------------------------------------------------------------------------


def test_development_secret_is_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError) as caught:
        _settings(monkeypatch, env="production")
    assert "LIFECARE_JWT_SECRET is the development secret; set a real one in production" in str(
        caught.value
    )


def test_development_secret_set_explicitly_is_refused_in_production(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ValidationError, match="LIFECARE_JWT_SECRET is the development secret"):
        _settings(monkeypatch, env="production", jwt_secret=DEVELOPMENT_JWT_SECRET)


def test_real_secret_is_accepted_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(
        monkeypatch,
        env="production",
        jwt_secret=REAL_SECRET,
        payload_key=REAL_PAYLOAD_KEY,
        jwks_url=JWKS_URL,
    )
    assert settings.env == "production"
    assert settings.jwt_secret.get_secret_value() == REAL_SECRET


@pytest.mark.parametrize("env", ["development", "test"])
def test_development_secret_is_accepted_outside_production(
    monkeypatch: pytest.MonkeyPatch, env: str
) -> None:
    settings = _settings(monkeypatch, env=env)
    assert settings.jwt_secret.get_secret_value() == DEVELOPMENT_JWT_SECRET


def test_secrets_are_not_shown_when_settings_are_printed_or_dumped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = _settings(monkeypatch, jwt_secret=REAL_SECRET)
    assert isinstance(settings.jwt_secret, SecretStr)
    assert REAL_SECRET not in repr(settings)
    assert REAL_SECRET not in str(settings)
    assert REAL_SECRET not in repr(settings.jwt_secret)
    assert REAL_SECRET not in settings.model_dump_json()
    assert "**********" in repr(settings)


def test_get_settings_reads_the_environment_once(monkeypatch: pytest.MonkeyPatch) -> None:
    _settings(monkeypatch, task_queue="first")
    get_settings.cache_clear()
    try:
        first = get_settings()
        monkeypatch.setenv("LIFECARE_TASK_QUEUE", "second")
        assert get_settings() is first
        assert first.task_queue == "first"
    finally:
        get_settings.cache_clear()


# --- the platform's tokens -----------------------------------------------------------------


@pytest.mark.parametrize("env", ["development", "test"])
def test_outside_production_the_jwks_is_the_identity_services(
    monkeypatch: pytest.MonkeyPatch, env: str
) -> None:
    settings = _settings(monkeypatch, env=env, identity_url="http://127.0.0.1:9005/")
    assert settings.jwks_url is None
    assert settings.jwks_location == "http://127.0.0.1:9005/.well-known/jwks.json"
    assert _settings(monkeypatch, jwks_url=JWKS_URL).jwks_location == JWKS_URL


@pytest.mark.parametrize("ttl", ["16m", "1h", "0s"])
def test_an_access_token_lifetime_over_15_minutes_or_of_none_is_refused(
    monkeypatch: pytest.MonkeyPatch, ttl: str
) -> None:
    with pytest.raises(ValidationError, match="at most 15 minutes"):
        _settings(monkeypatch, access_token_ttl=ttl)


def test_access_tokens_live_15_minutes_unless_set_shorter(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _settings(monkeypatch).access_token_ttl == timedelta(minutes=15)
    assert _settings(monkeypatch, access_token_ttl="5m").access_token_ttl == timedelta(minutes=5)


def test_the_identity_client_secret_is_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(monkeypatch, identity_client_secret=REAL_SECRET)
    assert isinstance(settings.identity_client_secret, SecretStr)
    assert REAL_SECRET not in repr(settings)
