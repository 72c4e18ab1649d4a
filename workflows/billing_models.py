"""Inputs and outputs of the BillingRun workflow and its activities: one model per input."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, Field

BILLING_SCHEDULE_ID = "monthly-billing"
# the workflow id the schedule starts; Temporal appends the scheduled time to it
SCHEDULED_RUN_ID = "billing-run-scheduled"


def billing_run_id(period: object) -> str:
    """The workflow id of a month's billing run: `billing-run-2026-11`."""
    return f"billing-run-{period}"


class BillingRunInput(BaseModel):
    """Bill `period` (YYYY-MM); without one, the month before today (the monthly schedule)."""

    period: str | None = None
    run_id: uuid.UUID | None = None  # the API's billing run row; made up when scheduled
    requested_by: str = "schedule"


class OpenRunCommand(BaseModel):
    run_id: uuid.UUID
    period: str
    workflow_id: str
    requested_by: str


class OpenRunResult(BaseModel):
    """Why the month cannot be billed, if it cannot (a missing tariff)."""

    refusal: str | None = None


class PlanCommand(BaseModel):
    period: str


class Plan(BaseModel):
    """How many customers to bill, the first customer id of every batch but the first, and
    how many batches to bill at a time (the worker's settings)."""

    customers: int
    starts: list[uuid.UUID]
    parallel: int = Field(default=1, ge=1)


class BatchCommand(BaseModel):
    """Bill the customers with `lo <= id < hi` (an open end where None)."""

    run_id: uuid.UUID
    period: str
    lo: uuid.UUID | None
    hi: uuid.UUID | None
    issued_on: date


class BatchResult(BaseModel):
    issued: int = 0
    held: int = 0
    correction_invoices: int = 0
    total: int = 0  # öre

    def __add__(self, other: BatchResult) -> BatchResult:
        return BatchResult(
            issued=self.issued + other.issued,
            held=self.held + other.held,
            correction_invoices=self.correction_invoices + other.correction_invoices,
            total=self.total + other.total,
        )


class CloseRunCommand(BaseModel):
    run_id: uuid.UUID
    status: str  # completed | failed
    error: str | None = None


class BillingRunResult(BaseModel):
    """What a run did: the month, its customers and batches, and the invoices it made."""

    run_id: uuid.UUID
    period: str
    customers: int
    batches: int
    invoices: BatchResult
