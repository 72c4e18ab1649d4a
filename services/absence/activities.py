"""The absence service's activity: the escalation event the order lifecycle decides on
(interface in workflows/lifecycle_activities.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
from temporalio import activity

from services.absence import service
from services.common.settings import Settings
from workflows.models import AbsenceEscalation


class AbsenceActivities:
    """Holds the pool; each method is one transaction and safe to retry."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @activity.defn(name="escalate_absence")
    async def escalate_absence(self, command: AbsenceEscalation) -> None:
        """Publish `absence.escalated` (more than 30 days) once per event id."""
        await service.record_escalation(self.pool, command)


def activities(pool: asyncpg.Pool, settings: Settings) -> list[Callable[..., Any]]:
    """The absence service's activities, for the worker (services/common/registry.py)."""
    return [AbsenceActivities(pool).escalate_absence]
