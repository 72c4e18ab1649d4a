"""The BillingRun's interfaces: its month, its inputs and outputs (one model per input),
and the activities it calls (names, inputs and outputs).

Interfaces only: the billing service implements the activities
(`services.billing.activities`); the worker registers that implementation under these
names. Names never change: they are in every recorded history.
"""

from __future__ import annotations

import calendar
import dataclasses
import re
import uuid
from datetime import date

from pydantic import BaseModel, Field
from temporalio import activity

from services.common.errors import Invalid

BILLING_SCHEDULE_ID = "monthly-billing"
# the workflow id the schedule starts; Temporal appends the scheduled time to it
SCHEDULED_RUN_ID = "billing-run-scheduled"


# --- the month a run bills ---------------------------------------------------------------

_PERIOD = re.compile(r"^(\d{4})-(\d{2})$", re.ASCII)


@dataclasses.dataclass(frozen=True, order=True)
class Period:
    """A calendar month, written `YYYY-MM`; the unit of billing."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Period:
        """Read `YYYY-MM`; a 422 that says what is wrong otherwise."""
        match = _PERIOD.match(text.strip())
        if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1900:
            raise Invalid(f"a period is a month written YYYY-MM, not {text!r}", code="bad_period")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: date) -> Period:
        """The month `day` lies in."""
        return cls(day.year, day.month)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def days(self) -> int:
        return calendar.monthrange(self.year, self.month)[1]

    @property
    def last_day(self) -> date:
        return date(self.year, self.month, self.days)

    def previous(self) -> Period:
        return Period(self.year - 1, 12) if self.month == 1 else Period(self.year, self.month - 1)

    def next(self) -> Period:
        return Period(self.year + 1, 1) if self.month == 12 else Period(self.year, self.month + 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def period_to_bill(today: date) -> Period:
    """The month a run on `today` bills: the previous one (fees are billed in arrears)."""
    return Period.of(today).previous()


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
    # customer-months older than the correction window, reported and not corrected (a
    # default, so the results in histories recorded before it still read)
    uncorrected: int = 0

    def __add__(self, other: BatchResult) -> BatchResult:
        return BatchResult(
            issued=self.issued + other.issued,
            held=self.held + other.held,
            correction_invoices=self.correction_invoices + other.correction_invoices,
            total=self.total + other.total,
            uncorrected=self.uncorrected + other.uncorrected,
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


# --- the activities the run calls ---------------------------------------------------------

OPEN_RUN = "billing_open_run"
PLAN = "billing_plan"
BILL_BATCH = "billing_bill_batch"
CLOSE_RUN = "billing_close_run"
NOT_HERE = "an interface: the worker runs the billing service's implementation of this activity"


@activity.defn(name=OPEN_RUN)
async def open_run(command: OpenRunCommand) -> OpenRunResult:
    """Record the run as running, or say why the month cannot be billed."""
    raise NotImplementedError(NOT_HERE)


@activity.defn(name=PLAN)
async def plan(command: PlanCommand) -> Plan:
    """The customers the month has to bill, cut into batches of ids."""
    raise NotImplementedError(NOT_HERE)


@activity.defn(name=BILL_BATCH)
async def bill_batch(command: BatchCommand) -> BatchResult:
    """Invoice one batch in one transaction, with its events and audit rows; a retry bills
    nobody twice."""
    raise NotImplementedError(NOT_HERE)


@activity.defn(name=CLOSE_RUN)
async def close_run(command: CloseRunCommand) -> None:
    """Mark the run completed or failed."""
    raise NotImplementedError(NOT_HERE)


INTERFACE = (open_run, plan, bill_batch, close_run)
