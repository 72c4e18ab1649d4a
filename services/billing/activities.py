"""The billing service's activities, for the worker (services/common/registry.py).

Still implemented in workflows/billing_activities.py: moving them here, with their
interfaces in workflows/billing_models.py, is the part of issue 11 that is left.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg

from services.common.settings import Settings
from workflows.billing_activities import BillingActivities


def activities(pool: asyncpg.Pool, settings: Settings) -> list[Callable[..., Any]]:
    """The billing run's activities on the shared pool."""
    billing = BillingActivities(
        pool,
        care_reasons=settings.care_absence_reasons,
        batch_size=settings.billing_batch_size,
        parallel=settings.billing_parallel,
    )
    return list(billing.all())
