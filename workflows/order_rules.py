"""The rules of an order's lifecycle, which the workflow's validators and the orders
service's use cases both apply: pure functions, no I/O.

They live here, beside the workflow, because the workflow may import no service; the
orders service's domain module re-exports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from services.common.errors import Conflict, Invalid


class OrderStatus(StrEnum):
    unconfirmed = "unconfirmed"
    confirmed = "confirmed"
    ongoing = "ongoing"
    ended = "ended"
    withdrawn = "withdrawn"


class EndReason(StrEnum):
    deceased = "deceased"
    moved_other_housing = "moved_other_housing"
    moved_home = "moved_home"
    other = "other"


def _wrong_state(action: str, status: str) -> Conflict:
    return Conflict(f"cannot {action} an order that is {status}", code=f"order_{status}")


def check_confirm(*, status: str, decision_date: date, start_date: date) -> None:
    """A provider confirms an unconfirmed order once, from the decision date on."""
    if status != OrderStatus.unconfirmed:
        raise _wrong_state("confirm", status)
    if start_date < decision_date:
        raise Invalid(
            f"the start date {start_date} is before the decision date {decision_date}",
            code="start_before_decision",
        )


def check_withdraw(*, status: str) -> None:
    """A caseworker withdraws an order only while it is unconfirmed."""
    if status != OrderStatus.unconfirmed:
        raise _wrong_state("withdraw", status)


def check_end(*, status: str, start_date: date, end_date: date, sure: bool) -> None:
    """A provider ends a confirmed execution on or after its start date, and must be sure."""
    if status not in (OrderStatus.confirmed, OrderStatus.ongoing):
        raise Conflict(f"cannot end an execution that is {status}", code=f"execution_{status}")
    if not sure:
        raise Invalid(
            "tick that you are sure you want to end the execution (confirmed: true)",
            code="end_not_confirmed",
        )
    if end_date < start_date:
        raise Invalid(
            f"the end date {end_date} is before the start date {start_date}",
            code="end_before_start",
        )


@dataclass(frozen=True)
class ReminderPlan:
    """When the lifecycle nudges the unit about an unconfirmed order."""

    first_after: timedelta
    every: timedelta

    def due_at(self, created_at: datetime, sent: int) -> datetime:
        """When reminder number `sent + 1` is due."""
        return created_at + self.first_after + self.every * sent
