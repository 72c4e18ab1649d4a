"""The platform's log lines: one JSON object per line (time, level, logger, service, request
id, trace and span id, message), or plain text for a developer's terminal. No personal data
goes into a message; the request id ties a line to the audit row of the same request, the
trace id to the request's trace (services/common/tracing.py)."""

from __future__ import annotations

import contextvars
import json
import logging
import logging.config
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace

# the server's id of the request being served (RequestIdMiddleware sets it)
REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "lifecare_request_id", default=None
)


class JsonLines(logging.Formatter):
    """A record as one JSON line."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "service": self.service,
            "message": record.getMessage(),
        }
        request_id = REQUEST_ID.get()
        if request_id:
            line["request_id"] = request_id
        ids = trace_ids()
        if ids:
            line["trace_id"], line["span_id"] = ids
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def trace_ids() -> tuple[str, str] | None:
    """The current trace and span id in hex (as a tracing backend shows them), or None
    outside a recorded span."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None
    return format(span_context.trace_id, "032x"), format(span_context.span_id, "016x")


class WithRequestId(logging.Formatter):
    """Plain text with the request id, for a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        request_id = REQUEST_ID.get()
        return f"{text} [request {request_id}]" if request_id else text


def config(service: str, *, json_lines: bool, level: str = "INFO") -> dict[str, Any]:
    """A logging configuration (dictConfig) for one process, uvicorn's loggers included."""
    formatter: dict[str, Any] = (
        {"()": JsonLines, "service": service}
        if json_lines
        else {"()": WithRequestId, "fmt": f"%(asctime)s {service} %(name)s %(message)s"}
    )
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "platform",
        "stream": "ext://sys.stdout",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"platform": formatter},
        "handlers": {"platform": handler},
        "root": {"handlers": ["platform"], "level": level},
        "loggers": {
            name: {"handlers": ["platform"], "level": level, "propagate": False}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }


def setup(service: str, *, json_lines: bool, level: str = "INFO") -> None:
    logging.config.dictConfig(config(service, json_lines=json_lines, level=level))
