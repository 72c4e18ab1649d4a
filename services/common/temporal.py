"""Calling workflows from an API: updates whose refusals come back as the platform's 4xx."""

from __future__ import annotations

from typing import Any, TypeVar

from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from services.common.errors import Conflict, LifecareError, Unavailable, error_for

T = TypeVar("T")


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
