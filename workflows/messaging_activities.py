"""Activities on the messaging schema: the retention of the inbox, and their inputs."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
from pydantic import BaseModel, Field
from temporalio import activity
from temporalio.exceptions import ApplicationError

from services.common.errors import LifecareError
from services.messaging import domain, repository


class RetentionRequest(BaseModel):
    """Delete what is older than `older_than` seconds; without it, the configured retention."""

    older_than: float | None = Field(
        default=None, description="seconds; None: LIFECARE_MESSAGE_RETENTION"
    )


class RetentionResult(BaseModel):
    """How many messages and files the run removed, and the retention it applied."""

    messages: int
    files: int
    retention_seconds: float


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
            domain.check_retention(retention)
        except LifecareError as exc:
            raise ApplicationError(exc.message, type=exc.code, non_retryable=True) from None
        async with self.pool.acquire() as conn, conn.transaction():
            messages, files = await repository.delete_older_than(
                conn, retention=retention, unsent_upload_age=domain.unsent_upload_age(retention)
            )
        activity.logger.info("message retention removed %d messages, %d files", messages, files)
        return RetentionResult(
            messages=messages, files=files, retention_seconds=retention.total_seconds()
        )
