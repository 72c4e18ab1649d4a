"""The absence service (port 8002)."""

from __future__ import annotations

from fastapi import FastAPI

from services.absence.api import router
from services.absence.service import STAY_HANDLERS
from services.common.app import ServiceSpec, create_app, event_consumer
from services.common.bus import EventConsumer
from services.common.settings import Settings


def _consumers(app: FastAPI) -> list[EventConsumer]:
    """Who stays at which unit, from when to when: the orders service's events."""
    return [event_consumer(app, purpose="stays", handlers=STAY_HANDLERS)]


SPEC = ServiceSpec(
    name="absence",
    title="Lifecare absence",
    router=router,
    consumers=_consumers,
)


def build(settings: Settings | None = None) -> FastAPI:
    """The absence app."""
    return create_app(SPEC, settings)
