"""The messaging service (port 8004)."""

from __future__ import annotations

from fastapi import FastAPI

from services.common.app import ServiceSpec, create_app
from services.common.settings import Settings
from services.messaging import events
from services.messaging.api import router

SPEC = ServiceSpec(
    name="messaging",
    title="Lifecare messaging",
    router=router,
    # units for the mailbox directory and the platform's notices, from one ordered queue.
    consumers={"events": events.HANDLERS},
)


def build(settings: Settings | None = None) -> FastAPI:
    """The messaging app."""
    return create_app(SPEC, settings)
