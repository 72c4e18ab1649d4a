"""The billing service (port 8003)."""

from __future__ import annotations

from fastapi import FastAPI

from services.billing import read_model
from services.billing.api import router
from services.billing.events import ROUTING_KEY
from services.common.app import ServiceSpec, create_app
from services.common.settings import Settings

SPEC = ServiceSpec(
    name="billing",
    title="Lifecare billing",
    router=router,
    # customers, stays and absences, from the orders and absence services' events.
    consumers={"read-model": read_model.HANDLERS},
    uses_temporal=True,
    routing_key=ROUTING_KEY,
)


def build(settings: Settings | None = None) -> FastAPI:
    """The billing app."""
    return create_app(SPEC, settings)
