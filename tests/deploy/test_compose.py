"""What a user of `docker compose up` relies on in docker-compose.yml.

The YAML checks always run (PyYAML only, no Docker needed). When the `docker-compose`
binary is installed, the file is also validated by Compose itself; that needs no Docker
engine either.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"

HTTP_SERVICES = {
    "web": 8000,
    "orders": 8001,
    "absence": 8002,
    "billing": 8003,
    "messaging": 8004,
    "identity": 8005,
}
# the processes that keep data or run workflows; the web UI only calls the others
PYTHON_SERVICES = [*(name for name in HTTP_SERVICES if name != "web"), "worker", "worker-2"]
TEMPORAL_UI_PORT = 8233
SEARCH_ATTRIBUTES = ("CustomerNumber", "UnitId", "OrderStatus")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    # safe_load resolves the x-* anchors and `<<` merge keys the file uses.
    with COMPOSE_FILE.open(encoding="utf-8") as f:
        data = yaml.safe_load(f)
    assert isinstance(data, dict), "docker-compose.yml is not a mapping"
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def published_ports(service: dict[str, Any]) -> dict[int, int]:
    """Map host port -> container port, from short ("[ip:]host:container[/proto]")
    or long ({published, target}) syntax."""
    result: dict[int, int] = {}
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            result[int(entry["published"])] = int(entry["target"])
            continue
        spec = str(entry).split("/", 1)[0]
        parts = spec.rsplit(":", 2)
        assert len(parts) >= 2, f"port {entry!r} is not published on the host"
        result[int(parts[-2])] = int(parts[-1])
    return result


def command_args(service: dict[str, Any]) -> list[str]:
    command = service.get("command", [])
    return shlex.split(command) if isinstance(command, str) else [str(a) for a in command]


def depends_on(service: dict[str, Any]) -> dict[str, dict[str, Any]]:
    deps = service.get("depends_on", {})
    if isinstance(deps, list):  # short syntax: no conditions at all
        return {name: {"condition": "service_started"} for name in deps}
    return deps


def test_the_whole_stack_is_defined(services: dict[str, dict[str, Any]]) -> None:
    expected = {
        "postgres",
        "rabbitmq",
        "temporal",
        "temporal-ui",
        "migrate",
        "orders",
        "absence",
        "billing",
        "messaging",
        "identity",
        "worker",
    }
    assert expected <= services.keys(), f"missing services: {sorted(expected - services.keys())}"


@pytest.mark.parametrize(("name", "port"), HTTP_SERVICES.items())
def test_http_services_are_published_on_their_ports(
    services: dict[str, dict[str, Any]], name: str, port: int
) -> None:
    assert published_ports(services[name]).get(port) == port
    args = command_args(services[name])
    assert args[:3] == ["lifecare", "serve", name], args
    assert args[args.index("--port") + 1] == str(port), args
    assert args[args.index("--host") + 1] == "0.0.0.0", "must listen beyond the container"


def test_temporal_ui_is_published_on_8233(services: dict[str, dict[str, Any]]) -> None:
    ui = services["temporal-ui"]
    assert TEMPORAL_UI_PORT in published_ports(ui)
    assert ui["environment"]["TEMPORAL_ADDRESS"] == "temporal:7233"


@pytest.mark.parametrize("name", PYTHON_SERVICES)
def test_python_services_start_after_migrations(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    deps = depends_on(services[name])
    assert "migrate" in deps, f"{name} does not wait for migrate"
    assert deps["migrate"].get("condition") == "service_completed_successfully"


@pytest.mark.parametrize("name", PYTHON_SERVICES)
def test_python_services_find_postgres_rabbitmq_and_temporal(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    env = services[name]["environment"]
    assert env["LIFECARE_DATABASE_URL"].startswith("postgresql://")
    assert "@postgres:5432/lifecare" in env["LIFECARE_DATABASE_URL"]
    assert env["LIFECARE_AMQP_URL"].startswith("amqp://")
    assert "@rabbitmq:5672" in env["LIFECARE_AMQP_URL"]
    assert env["LIFECARE_TEMPORAL_ADDRESS"] == "temporal:7233"
    assert env["LIFECARE_JWT_SECRET"], "LIFECARE_JWT_SECRET needs a (development) default"
    assert services[name]["build"]["dockerfile"] == "deploy/Dockerfile"


def test_migrate_is_a_one_shot_job_after_postgres(services: dict[str, dict[str, Any]]) -> None:
    migrate = services["migrate"]
    assert command_args(migrate) == ["lifecare", "migrate"]
    assert depends_on(migrate)["postgres"]["condition"] == "service_healthy"
    assert str(migrate.get("restart", "no")) == "no"


def test_infrastructure_has_healthchecks(services: dict[str, dict[str, Any]]) -> None:
    for name in ("postgres", "rabbitmq", "temporal"):
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


def test_temporal_is_set_up_before_the_services(services: dict[str, dict[str, Any]]) -> None:
    # The server only starts on an up-to-date schema, written by an admin-tools job ...
    assert services["temporal"]["image"].startswith("temporalio/server:")
    schema_jobs = [
        dep
        for dep, cond in depends_on(services["temporal"]).items()
        if cond.get("condition") == "service_completed_successfully"
    ]
    assert schema_jobs, "temporal does not wait for its schema job"
    for job in schema_jobs:
        assert services[job]["image"].startswith("temporalio/admin-tools:")
        assert depends_on(services[job])["postgres"]["condition"] == "service_healthy"
    # ... and every Lifecare process waits for a one-shot admin-tools job that runs after
    # the server is healthy (namespace and search attributes).
    for name in PYTHON_SERVICES:
        setup_jobs = [
            dep
            for dep, cond in depends_on(services[name]).items()
            if cond.get("condition") == "service_completed_successfully"
            and services[dep].get("image", "").startswith("temporalio/admin-tools:")
        ]
        assert setup_jobs, f"{name} does not wait for the Temporal namespace setup"
        for job in setup_jobs:
            assert depends_on(services[job])["temporal"]["condition"] == "service_healthy"


def test_temporal_setup_registers_the_workflows_search_attributes() -> None:
    script = (REPO_ROOT / "deploy" / "temporal" / "setup-namespace.sh").read_text(encoding="utf-8")
    for attribute in SEARCH_ATTRIBUTES:
        assert f"{attribute}:Keyword" in script


def test_bind_mounted_files_exist(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume["source"] if isinstance(volume, dict) else str(volume).split(":")[0]
            if source.startswith((".", "/")):
                assert (REPO_ROOT / source).exists(), f"{name} mounts missing {source}"


def test_dockerfile_builds_the_repo_as_non_root() -> None:
    dockerfile = (REPO_ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    assert "python:3.11-slim" in dockerfile
    assert "pip install" in dockerfile
    user_lines = [line.split()[1] for line in dockerfile.splitlines() if line.startswith("USER ")]
    assert user_lines and user_lines[-1] not in {"root", "0"}


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose not installed")
def test_docker_compose_accepts_the_file() -> None:
    result = subprocess.run(
        ["docker-compose", "-f", str(COMPOSE_FILE), "config", "-q"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_the_web_ui_starts_once_the_orders_service_answers(services) -> None:
    web = services["web"]
    assert command_args(web)[:3] == ["lifecare", "serve", "web"]
    assert depends_on(web).get("orders", {}).get("condition") == "service_healthy"
    assert web["environment"]["LIFECARE_ORDERS_URL"] == "http://orders:8001"


def test_the_web_ui_takes_its_identity_provider_from_the_environment(services) -> None:
    env = services["web"]["environment"]
    assert env["LIFECARE_ORDERS_URL"] == "http://orders:8001"  # and the rest, as every process
    for name in ("ISSUER", "CLIENT_ID", "CLIENT_SECRET", "SCOPES", "REDIRECT_URL"):
        assert env[f"LIFECARE_OIDC_{name}"].startswith(f"${{LIFECARE_OIDC_{name}:-"), name
