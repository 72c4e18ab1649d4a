"""Temporal clients of the platform (one factory, payloads encrypted) and calling workflows
from an API: updates whose refusals come back as the platform's 4xx."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, TypeVar

from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes
from temporalio.exceptions import ApplicationError
from temporalio.runtime import Runtime
from temporalio.service import RPCError, RPCStatusCode, TLSConfig

from services.common import tracing
from services.common.errors import Conflict, LifecareError, Unavailable, error_for
from services.common.payload_codec import EncryptionCodec, read_key
from services.common.settings import Settings

T = TypeVar("T")


def payload_codec(settings: Settings) -> EncryptionCodec:
    """The codec that encrypts payloads with the settings' key (and reads the old keys)."""
    return EncryptionCodec(
        read_key(settings.payload_key.get_secret_value()),
        [read_key(k.get_secret_value()) for k in settings.payload_old_keys],
    )


def data_converter(settings: Settings) -> DataConverter:
    """Pydantic payloads, encrypted; failure messages and stack traces encrypted too."""
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=payload_codec(settings),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def tls_config(settings: Settings) -> TLSConfig | bool:
    """How the client reaches Temporal: mTLS with the settings' certificate and key, TLS
    for an API key (or a private CA alone), plain text otherwise (development, tests)."""
    ca = _read(settings.temporal_tls_ca)
    if settings.temporal_tls_cert is not None or ca is not None:
        return TLSConfig(
            server_root_ca_cert=ca,
            domain=settings.temporal_tls_server_name,
            client_cert=_read(settings.temporal_tls_cert),
            client_private_key=_read(settings.temporal_tls_key),
        )
    return settings.temporal_api_key is not None


def _read(path: Path | None) -> bytes | None:
    return None if path is None else path.read_bytes()


def check_secured(settings: Settings) -> None:
    """Production reaches Temporal with mTLS or an API key, so that only the platform's own
    processes can change a workflow; plain text only where `temporal_insecure` says so."""
    if (
        settings.env == "production"
        and settings.temporal_tls_cert is None
        and settings.temporal_api_key is None
        and not settings.temporal_insecure
    ):
        raise ValueError(
            "production reaches Temporal with mTLS or an API key: set "
            "LIFECARE_TEMPORAL_TLS_CERT and LIFECARE_TEMPORAL_TLS_KEY (and "
            "LIFECARE_TEMPORAL_TLS_CA), or LIFECARE_TEMPORAL_API_KEY; "
            "LIFECARE_TEMPORAL_INSECURE=true only if plain text is meant"
        )


async def connect(
    settings: Settings, *, lazy: bool = False, runtime: Runtime | None = None
) -> Client:
    """A Temporal client as every process of the platform uses it: the API services, the
    worker, the command line, the benchmarks and the tests. In production without mTLS or
    an API key it refuses (check_secured), before any connection is tried. Its calls, and
    a worker's on it, are traced (the caller's span goes on in the workflow and its
    activities); `runtime` is the worker's, which exports the SDK's metrics."""
    check_secured(settings)
    api_key = settings.temporal_api_key
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
        tls=tls_config(settings),
        api_key=None if api_key is None else api_key.get_secret_value(),
        lazy=lazy,
        interceptors=[tracing.interceptor()],
        runtime=runtime,
    )


async def update(handle: WorkflowHandle[Any, Any], name: str, arg: Any, result_type: type[T]) -> T:
    """Run a workflow update; a refusal in its validator or handler becomes its 4xx error."""
    try:
        return await handle.execute_update(name, arg, result_type=result_type)
    except WorkflowUpdateFailedError as exc:
        raise _as_error(exc.cause) from exc
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise Conflict(
                "the order's workflow has completed; nothing more can change",
                code="workflow_completed",
            ) from exc
        raise


def _as_error(cause: BaseException | None) -> LifecareError:
    while cause is not None:
        if (
            isinstance(cause, ApplicationError)
            and cause.details
            and isinstance(cause.details[0], int)
        ):
            return error_for(cause.details[0], cause.type or "refused", cause.message)
        if isinstance(cause, ApplicationError) and cause.type == "refused":
            return Conflict(cause.message, code="refused")
        cause = cause.__cause__
    return Unavailable("the change could not be completed; try again", code="change_failed")
