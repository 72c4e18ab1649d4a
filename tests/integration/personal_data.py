"""Personal data the tests created, every log line of the run, and the search of the one in
the other: no personnummer or name may reach a log."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.common.logs import JsonLines

# the platform's own loggers and uvicorn's, captured from INFO up (as `lifecare serve` runs
# them); every other logger at the level it has
PRODUCT_LOGGERS = ("services", "workflows", "lifecare", "temporalio", "uvicorn")
# the tests' own HTTP client logs the URLs it asks for, with the test's search terms in them
TEST_CLIENT_LOGGERS = ("httpx", "httpcore")
SHORTEST_NAME = 3  # a name of one or two letters ("A") cannot be told from other text


@dataclass(frozen=True)
class Person:
    personnummer: str  # 12 digits
    first_name: str
    last_name: str
    # more of what the tests wrote about them, searched for as written (an order's parts:
    # an address, phone numbers, the names of next of kin)
    others: tuple[str, ...] = ()


CREATED: set[Person] = set()
LOG_FILES: list[Path] = []  # logs of processes the tests started (a worker, a service)


def remember(customer: dict) -> None:
    """Note a customer the tests created, to search the logs for at the end."""
    CREATED.add(Person(customer["personnummer"], customer["first_name"], customer["last_name"]))


def remember_also(customer: dict, *others: str) -> None:
    """Note what else the tests wrote of a customer (an address, a phone, a contact's name),
    to search the logs for at the end."""
    CREATED.add(
        Person(customer["personnummer"], customer["first_name"], customer["last_name"], others)
    )


# a personnummer as 12 or 10 digits, with or without `-`/`+` before the last four
_NUMBER = re.compile(r"(?<!\d)(?:\d{2})?(\d{6})[-+]?(\d{4})(?!\d)")
_WORD = re.compile(r"\w+")


def find(lines: Iterable[str], people: Iterable[Person]) -> list[str]:
    """Each line that names one of the people (personnummer in any format, or a name)."""
    numbers = {p.personnummer[2:]: p for p in people}
    names = {
        name: p
        for p in people
        for name in (p.first_name, p.last_name)
        if len(name) >= SHORTEST_NAME
    }
    hits = []
    for line in lines:
        named = [numbers[a + b] for a, b in _NUMBER.findall(line) if a + b in numbers]
        named += [names[w] for w in _WORD.findall(line) if w in names]
        named += [p for n, p in names.items() if not n.isalnum() and n in line]
        named += [p for p in people for other in p.others if other in line]
        hits += [f"{p.personnummer} ({p.last_name}): {line[:300]}" for p in named]
    return hits


def span_lines(span: Any) -> list[str]:
    """What a tracing backend would show of a span (an SDK `ReadableSpan`), as lines to
    search: its name, every attribute, its events and links with theirs, its status."""
    lines = [f"span {span.name}", f"status {span.status.status_code} {span.status.description}"]
    lines += [f"{span.name} {key}={value}" for key, value in (span.attributes or {}).items()]
    for event in span.events:
        lines.append(f"{span.name} event {event.name}")
        lines += [f"{span.name} {key}={value}" for key, value in (event.attributes or {}).items()]
    for link in span.links:
        lines += [
            f"{span.name} link {key}={value}" for key, value in (link.attributes or {}).items()
        ]
    return lines


class Capture:
    """Every log record made while it listens, whatever becomes of it afterwards (a handler
    removed, a logger that stops propagating): it hooks the record factory, not a handler.
    Each record is also kept as the JSON line a service writes (logs.JsonLines), formatted
    when it is made, so that its request and trace ids are the ones then current."""

    def __init__(self) -> None:
        self.records: list[logging.LogRecord] = []
        self.json_lines: list[str] = []
        self._formatter = logging.Formatter("%(levelname)s %(name)s %(message)s")
        self._json = JsonLines("tests")

    def add(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        if record.name.split(".")[0] in TEST_CLIENT_LOGGERS:
            return
        try:
            self.json_lines.append(self._json.format(record))
        except Exception:  # arguments that cannot format: `lines` renders them one by one
            pass

    def lines(self) -> list[str]:
        lines = []
        for record in list(self.records):
            if record.name.split(".")[0] in TEST_CLIENT_LOGGERS:
                continue
            lines.append(self._line(record))
        return lines + list(self.json_lines)

    def _line(self, record: logging.LogRecord) -> str:
        try:
            return self._formatter.format(record)
        except Exception:  # arguments that cannot format (a broken __repr__): each one alone
            parts = [record.name, str(record.msg)]
            for arg in record.args if isinstance(record.args, tuple) else [record.args]:
                try:
                    parts.append(str(arg))
                except Exception:
                    parts.append(f"<{type(arg).__name__}>")
            return " ".join(parts)


@dataclass
class Captured:
    capture: Capture

    def lines(self) -> list[str]:
        lines = self.capture.lines()
        for path in LOG_FILES:
            if path.exists():
                lines += path.read_text(errors="replace").splitlines()
        return lines


@contextmanager
def capture_logs() -> Iterator[Captured]:
    """Hear every logger, the product's from INFO up, while the block runs."""
    capture = Capture()
    levels = {name: logging.getLogger(name).level for name in PRODUCT_LOGGERS}
    for name in PRODUCT_LOGGERS:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() > logging.INFO:
            logger.setLevel(logging.INFO)
    make_record = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        capture.add(record)
        return record

    logging.setLogRecordFactory(factory)
    try:
        yield Captured(capture)
    finally:
        logging.setLogRecordFactory(make_record)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
