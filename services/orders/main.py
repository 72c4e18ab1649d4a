"""The orders service (port 8001)."""

from __future__ import annotations

from fastapi import FastAPI

from services.common.app import ServiceSpec, create_app
from services.common.settings import Settings
from services.orders.api import router

SPEC = ServiceSpec(
    name="orders",
    title="Lifecare orders",
    router=router,
    uses_temporal=True,
)


def build(settings: Settings | None = None) -> FastAPI:
    """The orders app."""
    return create_app(SPEC, settings)
