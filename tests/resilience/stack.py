"""Pieces of the real stack that a resilience test may break: the worker as a process of its
own, and a private RabbitMQ node or PostgreSQL server on ports of their own, so that
stopping them never touches the machine's shared broker and database."""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from services.common.settings import Settings
from services.common.temporal import data_converter
from tests.integration import personal_data
from tests.integration.conftest import TEMPORAL_CLI
from workflows.models import SEARCH_ATTRIBUTES

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)), None)
RABBITMQ_SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
RABBITMQCTL = Path("/usr/lib/rabbitmq/bin/rabbitmqctl")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


async def until(description: str, ready, timeout: float) -> float:  # type: ignore[no-untyped-def]
    """Wait for a sync predicate; return the seconds it took."""
    start = time.monotonic()
    while not ready():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"{description} not within {timeout:.0f} s")
        await asyncio.sleep(0.2)
    return time.monotonic() - start


def _seconds(duration: timedelta | None) -> str:
    return f"{int(duration.total_seconds())}s" if duration is not None else ""


def settings_env(settings: Settings) -> dict[str, str]:
    """The LIFECARE_* variables that give a child process these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIFECARE_")}
    env.update(
        LIFECARE_ENV=settings.env,
        LIFECARE_DATABASE_URL=settings.database_dsn,
        LIFECARE_AMQP_URL=str(settings.amqp_url),
        LIFECARE_TEMPORAL_ADDRESS=settings.temporal_address,
        LIFECARE_TEMPORAL_NAMESPACE=settings.temporal_namespace,
        LIFECARE_TASK_QUEUE=settings.task_queue,
        LIFECARE_QUEUE_PREFIX=settings.queue_prefix,
        LIFECARE_REMINDER_AFTER=_seconds(settings.reminder_after),
        LIFECARE_REMINDER_EVERY=_seconds(settings.reminder_every),
        LIFECARE_IVO_AFTER=_seconds(settings.ivo_after),
        LIFECARE_PAYLOAD_KEY=settings.payload_key.get_secret_value(),
    )
    if settings.queue_expires is not None:
        env["LIFECARE_QUEUE_EXPIRES"] = _seconds(settings.queue_expires)
    return env


class LifecareProcess:
    """`python -m lifecare.cli <args>` with the test's settings; its output is a log file
    that the session's personal-data check searches too."""

    def __init__(self, settings: Settings, args: list[str], log_dir: Path, name: str) -> None:
        self.settings = settings
        self.args = args
        self.log = log_dir / f"{name}.log"
        personal_data.LOG_FILES.append(self.log)
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "lifecare.cli", *self.args],
                cwd=ROOT,
                env=settings_env(self.settings),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.starts += 1

    def kill(self) -> None:
        """kill -9: no shutdown, no goodbye to Temporal, the broker or the database."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def _as(user: str) -> list[str]:
    """Run as `user` when we are root (PostgreSQL and RabbitMQ refuse root), else as us."""
    return ["runuser", "-u", user, "--"] if os.geteuid() == 0 else []


def _own(path: Path, user: str) -> None:
    if os.geteuid() == 0:
        entry = pwd.getpwnam(user)
        for item in [path, *path.rglob("*")]:
            os.chown(item, entry.pw_uid, entry.pw_gid)


class PrivatePostgres:
    """A PostgreSQL server of this test alone: initdb into a temporary folder, its own port."""

    def __init__(self) -> None:
        if PG_BIN is None:
            raise RuntimeError("PostgreSQL's server programs are not installed")
        self.dir = Path(tempfile.mkdtemp(prefix="lifecare-pg-"))
        self.dir.chmod(0o755)
        self.port = free_port()
        self.dsn = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        _own(self.dir, "postgres")
        self._run("initdb", "-D", str(self.dir / "data"), "-A", "trust", "-U", "postgres",
                  "--no-sync", "-E", "UTF8")  # fmt: skip

    def _run(self, program: str, *args: str) -> None:
        subprocess.run(
            [*_as("postgres"), str(PG_BIN / program), *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=200"
        )
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-l", str(self.dir / "pg.log"),
                  "-w", "-o", options, "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        if (self.dir / "data" / "postmaster.pid").exists():
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRabbitMQ:
    """A RabbitMQ node of this test alone (its own name, ports and data folder), beside the
    machine's node, which it never touches."""

    def __init__(self, config: str = "") -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="lifecare-rabbitmq-"))
        self.dir.chmod(0o755)
        self.port = free_port()
        self.node = f"lifecare-test-{self.port}@localhost"
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}/"
        (self.dir / "mnesia").mkdir()
        (self.dir / "log").mkdir()
        (self.dir / "rabbitmq.conf").write_text(
            f"listeners.tcp.local = 127.0.0.1:{self.port}\n{config}"
        )
        (self.dir / "enabled_plugins").write_text("[].\n")
        _own(self.dir, "rabbitmq")
        self.env = {
            **os.environ,
            "HOME": "/var/lib/rabbitmq" if os.geteuid() == 0 else os.environ.get("HOME", "/"),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(free_port()),
            "RABBITMQ_MNESIA_BASE": str(self.dir / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.dir / "log"),
            "RABBITMQ_CONFIG_FILE": str(self.dir / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.dir / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(self.dir / "rabbitmq.pid"),
        }
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self, timeout: float = 90) -> float:
        """Start the node; return the seconds until it accepts connections."""
        self._launch()
        return await until("the private RabbitMQ node", lambda: port_open(self.port), timeout)

    def _launch(self) -> None:
        with open(self.dir / "server.log", "ab") as out:
            self.process = subprocess.Popen(
                [*_as("rabbitmq"), str(RABBITMQ_SERVER)],
                cwd=self.dir,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its Erlang VM in the group, for kill()
            )

    async def stop(self) -> None:
        """Stop the node's Erlang VM altogether (`rabbitmqctl stop`)."""
        await asyncio.to_thread(self._ctl, "stop")
        if self.process is not None:
            await asyncio.to_thread(self.process.wait, 60)

    async def join(self, first: PrivateRabbitMQ) -> None:
        """Make this (started) node a member of `first`'s cluster."""
        for args in (("stop_app",), ("join_cluster", first.node), ("start_app",)):
            await asyncio.to_thread(self._ctl, *args)

    def kill(self) -> None:
        """kill -9 the node's whole process group: its VM goes without a goodbye."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def leaders(self) -> dict[str, str]:
        """The node that leads each quorum queue, by queue name."""
        listed = subprocess.run(
            [*_as("rabbitmq"), str(RABBITMQCTL), "-n", self.node, "-q", "list_queues",
             "name", "leader", "--no-table-headers"],
            env=self.env, check=True, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        return dict(line.split("\t", 1) for line in listed.stdout.splitlines() if "\t" in line)

    async def memory_alarm(self, on: bool) -> None:
        """Raise the node's memory alarm (a high watermark of 0 blocks every publishing
        connection at once, as a node short of memory does) or clear it again."""
        await asyncio.to_thread(self._ctl, "set_vm_memory_high_watermark", "0" if on else "0.4")

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            [*_as("rabbitmq"), str(RABBITMQCTL), "-n", self.node, *args],
            env=self.env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )

    def remove(self) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                self._ctl("stop")
                self.process.wait(timeout=30)
            except (subprocess.SubprocessError, OSError):
                self.process.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def rabbitmq_available() -> bool:
    return RABBITMQ_SERVER.exists() and RABBITMQCTL.exists()


class Worker:
    """The worker process, and when it was killed and polling again."""

    def __init__(self, process: LifecareProcess) -> None:
        self.process = process
        self.restarts: list[float] = []

    async def start(self) -> float:
        started = time.monotonic()
        self.process.start()
        polling = f"worker polling task queue {self.process.settings.task_queue}"
        await until(
            "the worker polling",
            lambda: self.process.output().count(polling) == self.process.starts,
            timeout=60,
        )
        return time.monotonic() - started

    async def kill_and_restart(self, dead_for: float) -> float:
        self.process.kill()
        await asyncio.sleep(dead_for)
        self.restarts.append(await self.start())
        return self.restarts[-1]


class PrivateTemporal:
    """A Temporal dev server of this test alone, on its own port, that keeps its state in a
    file: it can be stopped and started again with its workflows where they were."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.database = folder / "temporal.db"
        self.env: WorkflowEnvironment | None = None

    async def start(self) -> float:
        """Start the server (again); return the seconds until it answers."""
        started = time.monotonic()
        self.env = await WorkflowEnvironment.start_local(
            data_converter=data_converter(Settings(env="test")),
            dev_server_existing_path=str(TEMPORAL_CLI),
            ip="127.0.0.1",
            port=self.port,
            dev_server_database_filename=str(self.database),
            search_attributes=list(SEARCH_ATTRIBUTES),
            dev_server_log_level="error",
        )
        return time.monotonic() - started

    async def stop(self) -> None:
        if self.env is not None:
            await self.env.shutdown()
            self.env = None
