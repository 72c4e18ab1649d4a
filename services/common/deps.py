"""FastAPI dependencies every service's routes use: the pool, the caller, the request id.

They are `async def`: FastAPI runs a plain `def` dependency in its thread pool, a thread hop
per dependency per request for what is mostly an attribute lookup; the caller's may await
the platform's public keys (fetched once, then cached)."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from temporalio.client import Client

from services.common.auth import Principal, TokenVerifier
from services.common.errors import Unauthorized
from services.common.settings import Settings

_bearer = HTTPBearer(
    auto_error=False,
    description="The platform's token from the identity service (`POST /tokens`), or in "
    "development one from `lifecare token`",
)


async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


async def get_pool(request: Request) -> asyncpg.Pool:
    return request.app.state.pool


async def get_temporal(request: Request) -> Client:
    return request.app.state.temporal


async def get_request_id(request: Request) -> str:
    """The request's id as its audit rows store it: the server's, then the client's safe one."""
    return request.state.audit_request_id


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller named by the bearer token; 401 without a valid one."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("send a bearer token in the Authorization header")
    return await verifier_of(request.app).verify(credentials.credentials)


def verifier_of(app: FastAPI) -> TokenVerifier:
    """The app's token verifier (its cache of the platform's keys), made on first use."""
    verifier = getattr(app.state, "verifier", None)
    if verifier is None:
        verifier = app.state.verifier = TokenVerifier(app.state.settings)
    return verifier


AppSettings = Annotated[Settings, Depends(get_settings_dep)]
Pool = Annotated[asyncpg.Pool, Depends(get_pool)]
Temporal = Annotated[Client, Depends(get_temporal)]
Caller = Annotated[Principal, Depends(current_principal)]
RequestId = Annotated[str, Depends(get_request_id)]
