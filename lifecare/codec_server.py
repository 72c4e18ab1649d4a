"""The codec server: lets the Temporal UI (and `temporal --codec-endpoint`) show operators the
payloads that the platform encrypts, per Temporal's remote codec protocol
(POST /encode and /decode with `{"payloads": [...]}` in protobuf JSON)."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from services.common.auth import Role, TokenVerifier
from services.common.edge import BodyGuard, SecurityHeaders
from services.common.errors import Forbidden, LifecareError, Unauthorized
from services.common.payload_codec import MalformedPayload, PayloadKeyError
from services.common.settings import Settings
from services.common.temporal import payload_codec

log = logging.getLogger(__name__)


async def _operator(request: Request) -> None:
    """Anyone on this machine in development; in production an admin's platform token
    (ES256 from the identity service, verified against its JWKS as every service does:
    the verifier refuses development tokens in production)."""
    settings: Settings = request.app.state.settings
    if settings.env != "production":
        return
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        raise Unauthorized("send an admin's bearer token (the UI's codec access token)")
    verifier: TokenVerifier = request.app.state.verifier
    if (await verifier.verify(header[7:])).role != Role.admin:
        raise Forbidden("only an admin may decode payloads")


Operator = Annotated[None, Depends(_operator)]


def build(settings: Settings, verifier: TokenVerifier | None = None) -> FastAPI:
    """The codec server's app; in production only an admin's platform token may use it."""
    codec = payload_codec(settings)
    app = FastAPI(title="Lifecare payload codec", version="1")
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.codec_ui_origins,
        allow_methods=["POST"],
        allow_headers=["content-type", "x-namespace", "authorization"],
        allow_credentials=True,
    )

    # bounded before it is read; the JSON is protobuf's, read and refused (400) by `_read`
    size = settings.codec_max_body_bytes
    app.add_middleware(BodyGuard, max_body=size, max_upload_body=size, strict_json=False)
    app.add_middleware(SecurityHeaders)
    app.state.settings = settings
    app.state.verifier = verifier or TokenVerifier(settings)

    @app.exception_handler(LifecareError)
    async def refused(_request: Request, exc: LifecareError) -> JSONResponse:
        return JSONResponse({"error": {"code": exc.code, "message": exc.message}}, exc.status)

    @app.post("/encode")
    async def encode(request: Request, _caller: Operator) -> JSONResponse:
        """Encrypt payloads with the current key."""
        payloads = await _read(request)
        return _answer(await codec.encode(payloads.payloads))

    @app.post("/decode")
    async def decode(request: Request, _caller: Operator) -> JSONResponse:
        """Decrypt payloads with the key each one names; plain ones come back as they are."""
        payloads = await _read(request)
        try:
            return _answer(await codec.decode(payloads.payloads))
        except MalformedPayload as exc:
            log.warning("codec server: %s", exc)
            return JSONResponse({"error": {"code": "malformed_payload", "message": str(exc)}}, 400)
        except PayloadKeyError as exc:
            log.warning("codec server: %s", exc)
            return JSONResponse({"error": {"code": "undecodable", "message": str(exc)}}, 422)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok", "service": "codec"}

    return app


async def _read(request: Request) -> Payloads:
    """The payloads of the body; a 400 for a body that is not UTF-8 or not protobuf JSON of
    payloads (nesting too deep, a lone surrogate, a number where bytes belong included)."""
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise LifecareError("the body is not UTF-8", code="bad_payloads") from None
    try:
        return json_format.Parse(text, Payloads())
    except (json_format.ParseError, ValueError, RecursionError, TypeError):
        refusal = LifecareError('send {"payloads": [...]} in protobuf JSON', code="bad_payloads")
        raise refusal from None


def _answer(payloads: list) -> JSONResponse:  # type: ignore[type-arg]
    return JSONResponse(json_format.MessageToDict(Payloads(payloads=payloads)))
