"""CPU seconds each part of the stack spent during a measurement, and the peak memory of its
processes, read from /proc (Linux)."""

from __future__ import annotations

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def snapshot(children: dict[str, int], database: str) -> dict[str, float]:
    """CPU seconds so far of the stack's processes, PostgreSQL's backends of the bench's
    database, RabbitMQ, and this process."""
    seconds: dict[str, float] = {}
    for name, pid in children.items():
        seconds[name] = _safe(pid)
    postgres = rabbit = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        command = _command(pid)
        if command.startswith("postgres:") and f" {database} " in command:
            postgres += _safe(pid)
        elif "beam.smp" in command and "rabbit" in command:
            rabbit += _safe(pid)
    seconds["postgres (bench db)"] = postgres
    seconds["rabbitmq"] = rabbit
    seconds["bench process"] = _safe(os.getpid())
    return seconds


def _safe(pid: int) -> float:
    try:
        return _cpu_seconds(pid)
    except (OSError, IndexError, ValueError):
        return 0.0


def spent(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """CPU seconds per part between two snapshots (a backend that ended is not counted)."""
    return {name: round(after[name] - before.get(name, 0.0), 2) for name in after}


def peak_rss_mib(children: dict[str, int]) -> dict[str, float]:
    """The peak resident memory (VmHWM, MiB) of each child process so far: read just after
    the run, it is the most the process held at any moment up to then, the run included."""
    peaks: dict[str, float] = {}
    for name, pid in children.items():
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peaks[name] = round(int(line.split()[1]) / 1024, 1)  # kB
    return peaks
