"""The absence service (port 8002)."""

from __future__ import annotations

from fastapi import FastAPI

from services.absence.api import router
from services.absence.service import STAY_HANDLERS
from services.common.app import ServiceSpec, create_app
from services.common.settings import Settings

SPEC = ServiceSpec(
    name="absence",
    title="Lifecare absence",
    router=router,
    # who stays at which unit, from when to when: the orders service's events.
    consumers={"stays": STAY_HANDLERS},
)


def build(settings: Settings | None = None) -> FastAPI:
    """The absence app."""
    return create_app(SPEC, settings)
