"""The identity service (port 8005): who may sign in as what, and the platform's tokens."""

from __future__ import annotations

from fastapi import FastAPI

from services.common.app import ServiceSpec, create_app
from services.common.settings import Settings, get_settings
from services.identity import keys
from services.identity.api import router

SPEC = ServiceSpec(name="identity", title="Lifecare identity", router=router)


def build(settings: Settings | None = None) -> FastAPI:
    """The identity app; refuses to start in production on development keys or secrets."""
    settings = settings or get_settings()
    signing = keys.load(settings)
    app = create_app(SPEC, settings)
    app.state.signing_keys = signing
    return app
