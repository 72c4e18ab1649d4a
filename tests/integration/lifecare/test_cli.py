"""The `lifecare` command as a newcomer runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from services.common.auth import Role, decode_token
from services.common.settings import Settings

LIFECARE = [sys.executable, "-m", "lifecare.cli"]
ROOT = Path(__file__).resolve().parents[3]


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*LIFECARE, *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, **env},
    )


def test_token_prints_a_token_for_the_role_and_unit():
    done = run(
        "token",
        "--role",
        "provider",
        "--unit",
        "solbacken",
        "--sub",
        "anna",
        "--name",
        "Anna Andersson",
    )
    assert done.returncode == 0, done.stderr
    principal = decode_token(Settings(), done.stdout.strip())
    assert (principal.sub, principal.role, principal.unit) == ("anna", Role.provider, "solbacken")
    assert principal.name == "Anna Andersson"


def test_provider_token_without_unit_is_refused():
    done = run("token", "--role", "provider")
    assert done.returncode == 2
    assert "unit" in done.stderr


def test_up_says_which_service_does_not_answer_and_how_to_start_it():
    done = run(
        "up",
        LIFECARE_DATABASE_URL="postgresql://postgres@127.0.0.1:9/lifecare",
        LIFECARE_AMQP_URL="amqp://guest:guest@127.0.0.1:9/",
    )
    assert done.returncode == 1
    assert "PostgreSQL does not answer" in done.stdout and "pg_ctlcluster" in done.stdout
    assert "RabbitMQ does not answer" in done.stdout and "rabbitmq-server" in done.stdout


def test_production_refuses_the_development_secret():
    done = run("token", "--role", "admin", LIFECARE_ENV="production")
    assert done.returncode == 2
    assert "LIFECARE_JWT_SECRET is the development secret" in done.stderr
    assert "Traceback" not in done.stderr
