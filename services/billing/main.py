"""The billing service (port 8003)."""

from __future__ import annotations

from fastapi import FastAPI

from services.billing import read_model
from services.billing.api import router
from services.billing.events import ROUTING_KEY
from services.common.app import ServiceSpec, create_app, event_consumer
from services.common.bus import EventConsumer
from services.common.settings import Settings


def _consumers(app: FastAPI) -> list[EventConsumer]:
    """Customers, stays and absences, from the orders and absence services' events."""
    return [event_consumer(app, purpose="read-model", handlers=read_model.HANDLERS)]


SPEC = ServiceSpec(
    name="billing",
    title="Lifecare billing",
    router=router,
    consumers=_consumers,
    uses_temporal=True,
    routing_key=ROUTING_KEY,
)


def build(settings: Settings | None = None) -> FastAPI:
    """The billing app."""
    return create_app(SPEC, settings)
