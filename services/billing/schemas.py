"""Request and response bodies of the billing API. Money goes in and out as kronor strings
with two decimals ("3333.33"); inside it is integer öre."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from services.billing.domain import TariffKind, parse_kronor
from services.common.errors import Invalid
from services.common.text import Day


def _ore(value: object) -> int:
    """Kronor with at most two decimals as öre; a ValueError FastAPI answers with 422."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError('an amount in kronor, e.g. "2660.00"')
    try:
        return parse_kronor(value)
    except Invalid as exc:
        raise ValueError(exc.message) from None


Kronor = Annotated[
    int,
    BeforeValidator(_ore, json_schema_input_type=str),
    Field(description='Kronor with two decimals, e.g. "2660.00"; read into öre'),
]
Money = Annotated[str, Field(description="Kronor with two decimals", examples=["3333.33"])]
PeriodText = Annotated[
    str, Field(pattern=r"^\d{4}-\d{2}$", description="A month, YYYY-MM", examples=["2026-11"])
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TariffIn(Strict):
    kind: TariffKind
    monthly_amount: Kronor
    valid_from: Day = Field(description="The first of the month it applies from")


class Tariff(BaseModel):
    kind: TariffKind
    monthly_amount: Money
    valid_from: date


class FeeDecisionIn(Strict):
    customer_id: uuid.UUID
    care_monthly_amount: Kronor
    valid_from: Day
    valid_to: Day | None = None


class FeeDecision(BaseModel):
    id: uuid.UUID
    customer_id: uuid.UUID
    care_monthly_amount: Money
    valid_from: date
    valid_to: date | None
    created_at: datetime


class BillingRunIn(Strict):
    period: PeriodText


class BillingRun(BaseModel):
    id: uuid.UUID
    period: str
    status: Literal["running", "completed", "failed"]
    workflow_id: str
    requested_by: str
    started_at: datetime
    completed_at: datetime | None = None
    error: str | None = None
    invoices: int = 0
    issued: int = 0
    held: int = 0
    correction_invoices: int = 0
    total: Money = "0.00"
    correct_from: str | None = Field(
        default=None,
        description="The first month (YYYY-MM) the run corrects; an older month is not "
        "corrected but listed at /billing-runs/{id}/uncorrected. Null until a batch is billed",
    )
    uncorrected: int = Field(
        default=0, description="Customer-months before correct_from whose fees changed, left"
    )


class UncorrectedMonth(BaseModel):
    """A month of a customer a run did not correct, because it lies before its window."""

    customer_id: uuid.UUID
    customer_number: str
    period: str
    fee: Literal["food", "care"]
    due: Money = Field(description="What the rules give for the month today")
    billed_before: Money = Field(description="What invoices billed for it")
    difference: Money = Field(description="due - billed_before: the correction not made")


class InvoiceLine(BaseModel):
    kind: Literal["food", "care", "food_correction", "care_correction"]
    description: str
    period: str
    days: int = Field(description="Days of the month charged")
    monthly_amount: Money
    due: Money = Field(description="What the rules give for the month today")
    billed_before: Money = Field(description="What earlier invoices billed for the month")
    amount: Money


class Invoice(BaseModel):
    id: uuid.UUID
    number: str | None = Field(description="YYYY-NNNNNN, gapless per year; null while held")
    customer_id: uuid.UUID
    customer_number: str
    period: str
    kind: Literal["regular", "correction"]
    status: Literal["issued", "held"]
    hold_reasons: list[str]
    hold_note: str | None
    issued_on: date | None
    lines: list[InvoiceLine]
    total: Money
