"""The stack the worker bench loads: a Temporal dev server, a scratch database and the
lifecare worker, as `lifecare worker` runs it with every activity, on spare ports, a
RabbitMQ vhost and queue prefix of its own (the billing bench's), so nothing reaches
another engineer's stack on this machine."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from bench.billing.stack import LOG_DIR, SERVER_DSN, VHOST, delete_queues, ensure_vhost, free_port
from lifecare.cli import DEV_SERVER_PRAGMAS
from lifecare.cli import stop as stop_children

TASK_QUEUE = "bench-worker"


@dataclass
class WorkerStack:
    """The dev server and the worker as child processes, and the settings they share."""

    # LIFECARE_* settings for the worker only (e.g. its cache size)
    worker_env: dict[str, str] = field(default_factory=dict)
    database: str = field(default_factory=lambda: f"lifecare_bench_worker_{uuid.uuid4().hex[:8]}")
    temporal_port: int = field(default_factory=free_port)
    metrics_port: int = field(default_factory=free_port)
    vhost: str = "/"
    children: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def dsn(self) -> str:
        return f"{SERVER_DSN}/{self.database}"

    @property
    def temporal_db(self) -> Path:
        return LOG_DIR / f"{self.database}-temporal.db"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    def env(self) -> dict[str, str]:
        """The settings of the bench's client and of the worker (the same key, queue, DB)."""
        vhost = "%2F" if self.vhost == "/" else self.vhost
        return {
            "LIFECARE_DATABASE_URL": self.dsn,
            "LIFECARE_TEMPORAL_ADDRESS": f"127.0.0.1:{self.temporal_port}",
            "LIFECARE_AMQP_URL": f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
            "LIFECARE_TASK_QUEUE": TASK_QUEUE,
            "LIFECARE_QUEUE_PREFIX": f"{self.database}.",
            "LIFECARE_QUEUE_EXPIRES": "30m",
            "LIFECARE_WORKER_HEALTH_PORT": "0",
            "LIFECARE_WORKER_METRICS_PORT": str(self.metrics_port),
        }

    def start(self) -> int:
        """Temporal, migrations, then the worker; returns the worker's process id."""
        LOG_DIR.mkdir(exist_ok=True)
        self.vhost = ensure_vhost(VHOST)
        bin_dir = Path(sys.executable).parent
        self._spawn(
            "temporal",
            [
                str(bin_dir / "temporal"),
                *("server", "start-dev", "--ip", "127.0.0.1", "--headless"),
                *("--port", str(self.temporal_port), "--db-filename", str(self.temporal_db)),
                *("--log-level", "warn", *DEV_SERVER_PRAGMAS),
            ],
        )
        self._wait_for_port(self.temporal_port)
        subprocess.run(
            [sys.executable, "-m", "lifecare.cli", "migrate"],
            env={**os.environ, **self.env()},
            stdout=subprocess.DEVNULL,
            check=True,
        )
        worker = self._spawn(
            "worker", [sys.executable, "-m", "lifecare.cli", "worker"], self.worker_env
        )
        self._wait_for_port(self.metrics_port)
        return worker.pid

    def stop(self) -> None:
        """The worker first (it finishes its activities), then Temporal; files and queues go."""
        stop_children(self.children)
        self.children.clear()
        for suffix in ("", "-wal", "-shm"):  # the dev server's SQLite runs in WAL mode
            Path(f"{self.temporal_db}{suffix}").unlink(missing_ok=True)
        delete_queues(self.vhost, prefix=f"{self.database}.")

    def _spawn(
        self, name: str, args: list[str], extra: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        log = open(LOG_DIR / f"bench-worker-{name}.log", "ab")
        env = {**os.environ, **self.env(), **(extra or {})}
        child = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.children.append(child)
        return child

    def _wait_for_port(self, port: int, timeout: float = 60) -> None:
        import socket

        deadline = time.monotonic() + timeout
        while True:
            with socket.socket() as sock:
                sock.settimeout(0.3)
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    return
            for child in self.children:
                if child.poll() is not None:
                    raise SystemExit(f"bench: a child exited; see {LOG_DIR}/bench-worker-*.log")
            if time.monotonic() > deadline:
                raise SystemExit(f"bench: port {port} did not open within {timeout:.0f} s")
            time.sleep(0.2)
