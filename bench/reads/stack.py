"""The stack the reads bench reads from: the real services that answer the reads (orders,
absence, messaging) and the identity service whose keys they verify the tokens against, on
spare ports, a scratch database and the benches' RabbitMQ vhost, as bench/billing/stack.py
keeps the billing bench apart. No Temporal and no worker: nothing here starts a workflow.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field

from bench.billing.stack import (
    LOG_DIR,
    SERVER_DSN,
    _healthy,
    delete_queues,
    ensure_vhost,
    free_port,
)
from lifecare.cli import stop as stop_children

SERVICES = ("identity", "orders", "absence", "messaging")
# a vhost of its own: in the billing bench's, the messaging service's consumer took that
# bench's notices (20 000 messages more in the scratch database, in one run)
VHOST = "lifecare-bench-reads"


@dataclass
class Stack:
    """The services as child processes, and the settings they share through the environment."""

    database: str = field(default_factory=lambda: f"lifecare_bench_reads_{uuid.uuid4().hex[:8]}")
    ports: dict[str, int] = field(default_factory=lambda: {s: free_port() for s in SERVICES})
    vhost: str = "/"
    children: list[subprocess.Popen[bytes]] = field(default_factory=list)
    names: list[str] = field(default_factory=list)

    @property
    def dsn(self) -> str:
        return f"{SERVER_DSN}/{self.database}"

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def env(self) -> dict[str, str]:
        vhost = "%2F" if self.vhost == "/" else self.vhost
        return {
            **os.environ,
            "LIFECARE_ENV": "test",
            "LIFECARE_DATABASE_URL": self.dsn,
            "LIFECARE_AMQP_URL": f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
            "LIFECARE_IDENTITY_URL": self.url("identity"),
            # never reached: the reads start no workflow (the client connects lazily)
            "LIFECARE_TEMPORAL_ADDRESS": "127.0.0.1:1",
            "LIFECARE_QUEUE_PREFIX": f"{self.database}.",
            "LIFECARE_QUEUE_EXPIRES": "30m",
        }

    def migrate(self) -> None:
        """Create the scratch database and every service's schema, as `lifecare up` does."""
        LOG_DIR.mkdir(exist_ok=True)
        self.vhost = ensure_vhost(VHOST)
        subprocess.run(
            [sys.executable, "-m", "lifecare.cli", "migrate"],
            env=self.env(),
            stdout=subprocess.DEVNULL,
            check=True,
        )

    def start(self) -> None:
        """The four services, each `lifecare serve <name>` in a process of its own."""
        for name in SERVICES:
            self.spawn(
                name,
                [
                    sys.executable,
                    "-m",
                    "lifecare.cli",
                    "serve",
                    name,
                    "--port",
                    str(self.ports[name]),
                ],
            )
        for name in SERVICES:
            self.wait(name, lambda name=name: _healthy(f"{self.url(name)}/health"))

    def spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
        self.names.append(name)
        log = open(LOG_DIR / f"bench-reads-{name}.log", "ab")
        self.children.append(
            subprocess.Popen(args, env=env or self.env(), stdout=log, stderr=subprocess.STDOUT)
        )

    def wait(self, what: str, ready, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while not ready():
            for child in self.children:
                if child.poll() is not None:
                    raise SystemExit(
                        f"bench: {child.args[1:5]} exited; see {LOG_DIR}/bench-reads-*.log"
                    )
            if time.monotonic() > deadline:
                raise SystemExit(f"bench: {what} did not come up within {timeout:.0f} s")
            time.sleep(0.2)

    def pids(self) -> dict[str, int]:
        return dict(zip(self.names, (child.pid for child in self.children), strict=True))

    def stop(self) -> None:
        stop_children(self.children)
        self.children.clear()
        self.names.clear()
        delete_queues(self.vhost, prefix=f"{self.database}.")
