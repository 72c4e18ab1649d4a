"""Request and response bodies of the absence API."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from services.absence.domain import Change, Reason
from services.common.text import Day, Description


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AbsenceIn(Strict):
    customer_id: uuid.UUID
    reason: Reason
    description: Description = Field(examples=["Inlagd på Södersjukhuset"])
    from_date: Day = Field(description="The first whole day absent")
    to_date: Day | None = Field(
        default=None, description="The last whole day absent; leave out while unknown"
    )


class AbsenceChange(Strict):
    """ "Ändra": the last day absent (null opens the absence again)."""

    to_date: Day | None


class HandledIn(Strict):
    """ "Markera som hanterad": optionally the revision the fee administrator looked at, so
    a change made meanwhile is not marked handled unseen."""

    revision: int | None = Field(default=None, ge=1)


class Absence(BaseModel):
    id: uuid.UUID
    customer_id: uuid.UUID
    unit_id: str
    order_id: uuid.UUID
    execution_id: uuid.UUID
    reason: Reason
    description: str
    from_date: date
    to_date: date | None
    last_day: date | None = Field(
        description="to_date, or the end of the stay for an absence left open when it ended"
    )
    days_without_meals: int | None = Field(
        description="Whole days from from_date through last_day; null while open"
    )
    registered_by: str
    registered_at: datetime
    updated_by: str | None
    updated_at: datetime | None
    revision: int = Field(description="Grows with every change")
    last_change: Change = Field(
        description="What happened last: registered, ended, changed, removed"
    )
    changed_at: datetime = Field(description="When the last change was made")
    previous_to_date: date | None = Field(
        description="The last day absent before the last change (for ended and changed)"
    )
    removed_at: datetime | None
    handled: bool = Field(
        description="Whether a fee administrator marked the last change handled (manual 5.2)"
    )
    handled_by: str | None
    handled_at: datetime | None
