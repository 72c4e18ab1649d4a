"""Request and response bodies of the absence API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.absence.domain import Reason


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AbsenceIn(Strict):
    customer_id: uuid.UUID
    reason: Reason
    description: Annotated[str, StringConstraints(strip_whitespace=True)] = Field(
        min_length=1, max_length=500, examples=["Inlagd på Södersjukhuset"]
    )
    from_date: date = Field(description="The first whole day absent")
    to_date: date | None = Field(
        default=None, description="The last whole day absent; leave out while unknown"
    )


class AbsenceChange(Strict):
    """ "Ändra": the last day absent (null opens the absence again)."""

    to_date: date | None


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
