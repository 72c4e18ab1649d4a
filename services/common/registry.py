"""The platform registry: one description of every service and of what the worker runs.

The CLI (`up`, `serve`, `migrate`), the worker, the test fixtures and the benches read it;
adding a service means its folder under `services/` and one entry here. Code is named by
dotted path ("module:attribute") and imported only by the composition root, so this
module, at the bottom of the layers, imports no service.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Service:
    """A service: its HTTP app, its port, its schema and what it gives the worker."""

    name: str
    port: int
    app: str  # a factory `build(settings=None) -> FastAPI`; its lifespan starts its consumers
    # its PostgreSQL schema, migrated from services/<name>/migrations; what a schema holds is
    # its own: the APIs' have an outbox (relayed by the app factory) and inbox, the web UI's
    # only its sessions
    schema: str | None = None
    # `activities(pool, settings) -> list` of the Temporal activities it implements
    activities: str | None = None
    # the purposes of the event consumers its app starts, each on its queue
    # `<service>.<purpose>`; the app factory refuses an app that starts others
    consumers: tuple[str, ...] = ()
    # an API of the platform: built by services.common.app's factory, its schema holds an
    # outbox its app relays and an inbox its consumers record in (the web UI is none)
    api: bool = True


@dataclass(frozen=True)
class Worker:
    """What the worker process runs beside the services' activities."""

    workflows: tuple[str, ...]
    # `(its id, factory(task_queue) -> Schedule)`: created by the worker when missing
    schedules: tuple[tuple[str, str], ...]
    bridge: str  # the consumer that turns bus events into signals to the lifecycles
    search_attributes: str


SERVICES: tuple[Service, ...] = (
    # the web UI: it calls the others over HTTP with the person's token; its schema holds
    # only the sessions its replicas share (no outbox: it writes no events)
    Service(name="web", port=8000, app="services.web.main:build", schema="web", api=False),
    Service(
        name="orders",
        port=8001,
        app="services.orders.main:build",
        schema="orders",
        activities="services.orders.activities:activities",
    ),
    Service(
        name="absence",
        port=8002,
        app="services.absence.main:build",
        schema="absence",
        activities="services.absence.activities:activities",
        consumers=("stays",),
    ),
    Service(
        name="billing",
        port=8003,
        app="services.billing.main:build",
        schema="billing",
        activities="services.billing.activities:activities",
        consumers=("read-model",),
    ),
    Service(
        name="messaging",
        port=8004,
        app="services.messaging.main:build",
        schema="messaging",
        activities="services.messaging.activities:activities",
        consumers=("events",),
    ),
    # who may sign in as what, at which unit; issues the platform's tokens and their JWKS
    Service(name="identity", port=8005, app="services.identity.main:build", schema="identity"),
)

WORKER = Worker(
    workflows=(
        "workflows.order_lifecycle:OrderLifecycle",
        "workflows.billing_run:BillingRun",
        "workflows.message_retention:MessageRetention",
    ),
    schedules=(
        (
            "workflows.billing_models:BILLING_SCHEDULE_ID",
            "workflows.billing_schedule:billing_schedule",
        ),
        (
            "workflows.message_retention:SCHEDULE_ID",
            "workflows.message_retention:retention_schedule",
        ),
    ),
    bridge="workflows.bridge:AbsenceBridge",
    search_attributes="workflows.models:SEARCH_ATTRIBUTES",
)

_BY_NAME = {service.name: service for service in SERVICES}


def service(name: str) -> Service:
    """The entry of one service (KeyError names the known ones)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"no service {name!r}; the platform has {', '.join(_BY_NAME)}") from None


def consumers_of(name: str) -> tuple[str, ...]:
    """The purposes of a service's event consumers; none for a name the registry lacks."""
    entry = _BY_NAME.get(name)
    return entry.consumers if entry else ()


def local_url(name: str) -> str:
    """Where a service answers on this machine, at its registry port."""
    return f"http://127.0.0.1:{service(name).port}"


def build_app(name: str, settings: Any = None) -> Any:
    """A service's app, built by the factory its entry names (for the CLI and fixtures)."""
    return load(service(name).app)(settings)


def names() -> list[str]:
    """Every service's name, in the order they start."""
    return [s.name for s in SERVICES]


def apis() -> list[Service]:
    """The platform's APIs: each with its schema, outbox and consumers (not the web UI)."""
    return [s for s in SERVICES if s.api]


def schemas() -> list[str]:
    """The services whose schemas are migrated, in order."""
    return [s.name for s in SERVICES if s.schema]


def load(path: str) -> Any:
    """The object a dotted path "module:attribute" names."""
    module, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module), attribute)


__all__ = [
    "SERVICES",
    "WORKER",
    "Service",
    "Worker",
    "build_app",
    "consumers_of",
    "load",
    "local_url",
    "names",
    "schemas",
    "service",
]
