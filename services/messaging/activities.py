"""The messaging service's activity: the retention of the inbox (interface in
workflows/message_retention.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import asyncpg
from temporalio import activity
from temporalio.exceptions import ApplicationError

from services.common.errors import LifecareError
from services.common.settings import Settings
from services.messaging import service
from workflows.message_retention import RetentionRequest, RetentionResult


class MessagingActivities:
    """Holds a pool on the platform's database; writes only the messaging schema."""

    def __init__(self, pool: asyncpg.Pool, *, retention: timedelta) -> None:
        self.pool = pool
        self.retention = retention

    @activity.defn(name="delete_old_messages")
    async def delete_old_messages(self, request: RetentionRequest) -> RetentionResult:
        """Delete older messages and the files only they carried, in one transaction."""
        retention = (
            self.retention if request.older_than is None else timedelta(seconds=request.older_than)
        )
        try:
            messages, files = await service.delete_old_messages(self.pool, retention=retention)
        except LifecareError as exc:
            raise ApplicationError(exc.message, type=exc.code, non_retryable=True) from None
        activity.logger.info("message retention removed %d messages, %d files", messages, files)
        return RetentionResult(
            messages=messages, files=files, retention_seconds=retention.total_seconds()
        )


def activities(pool: asyncpg.Pool, settings: Settings) -> list[Callable[..., Any]]:
    """The messaging service's activities, for the worker (services/common/registry.py)."""
    return [MessagingActivities(pool, retention=settings.message_retention).delete_old_messages]
