"""The messaging service (port 8004)."""

from __future__ import annotations

from fastapi import FastAPI

from services.common.app import ServiceSpec, create_app, event_consumer
from services.common.bus import EventConsumer
from services.common.settings import Settings
from services.messaging import events
from services.messaging.api import router


def consumers(app: FastAPI) -> list[EventConsumer]:
    """Units for the mailbox directory and the platform's notices, from one ordered queue."""
    return [event_consumer(app, purpose="events", handlers=events.HANDLERS)]


SPEC = ServiceSpec(
    name="messaging",
    title="Lifecare messaging",
    router=router,
    consumers=consumers,
)


def build(settings: Settings | None = None) -> FastAPI:
    """The messaging app."""
    return create_app(SPEC, settings)
