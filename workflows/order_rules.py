"""The rules of an order's lifecycle, which the workflow's validators and the orders
service's use cases both apply: pure functions, no I/O.

They live here, beside the workflow, because the workflow may import no service; the
orders service's domain module re-exports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from services.common.errors import Conflict, Forbidden, Invalid
from services.common.text import free_text


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


# who may take each step: a provider of the order's unit confirms and ends, a caseworker
# withdraws (the API's `require` and its unit scoping; here for a caller that bypasses it)
STEP_ROLE = {"confirm": "provider", "end": "provider", "withdraw": "caseworker"}
PROVIDER = "provider"
WITHDRAW_REASON_MAX = 2_000
_SHOWN = 64  # characters of a value an actor sent, quoted in a refusal


@dataclass(frozen=True)
class DateBounds:
    """How far from today an order's dates may lie (settings `order_decision_years_back`,
    `order_years_ahead`): no decision in the future or older than `decision_years_back`
    years, no start or end date more than `years_ahead` years ahead."""

    decision_years_back: int = 2
    years_ahead: int = 1


def _years_from(day: date, years: int) -> date:
    """The same day `years` later (or earlier), 28 February for a 29th in no leap year,
    the calendar's edge where it ends."""
    year = day.year + years
    if year > date.max.year:
        return date.max
    if year < date.min.year:
        return date.min
    try:
        return day.replace(year=year)
    except ValueError:
        return day.replace(year=year, day=28)


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else f"{text[:_SHOWN]}…"


def _wrong_state(action: str, status: str) -> Conflict:
    return Conflict(f"cannot {action} an order that is {status}", code=f"order_{status}")


def wrong_state(step: str, status: str) -> Conflict:
    """The 409 of a step that the order's state does not allow, naming the state."""
    if step == "end":
        return Conflict(f"cannot end an execution that is {status}", code=f"execution_{status}")
    return _wrong_state(step, status)


def check_actor(*, step: str, sub: str, role: str, unit: str | None, order_unit: str) -> None:
    """Only a provider of the order's unit confirms or ends it; only a caseworker withdraws."""
    needed = STEP_ROLE[step]
    if not sub.strip():
        raise Invalid(f"the actor who would {step} the order names nobody", code="actor_unnamed")
    if role != needed:
        raise Forbidden(
            f"only a {needed} may {step} an order; the actor's role is {_shown(role)}",
            code="actor_role_not_allowed",
        )
    if needed == PROVIDER and unit != order_unit:
        raise Forbidden(
            f"only a provider of the order's unit {order_unit} may {step} it; "
            f"the actor's unit is {_shown(unit)}",
            code="actor_unit_not_allowed",
        )


def check_dates_ahead(*, today: date, bounds: DateBounds, **days: date | None) -> None:
    """Start and end dates at most `bounds.years_ahead` years from today."""
    latest = _years_from(today, bounds.years_ahead)
    for field, day in days.items():
        if day is not None and day > latest:
            raise Invalid(
                f"the {field.replace('_', ' ')} {day} is more than {bounds.years_ahead} "
                f"year(s) ahead (the latest is {latest})",
                code=f"{field}_too_far_ahead",
            )


def check_decision_date(*, decision_date: date, today: date, bounds: DateBounds) -> None:
    """A decision is taken today or in the last `bounds.decision_years_back` years."""
    if decision_date > today:
        raise Invalid(
            f"the decision date {decision_date} is in the future (today is {today})",
            code="decision_date_in_future",
        )
    earliest = _years_from(today, -bounds.decision_years_back)
    if decision_date < earliest:
        raise Invalid(
            f"the decision date {decision_date} is more than {bounds.decision_years_back} "
            f"year(s) back (the earliest is {earliest})",
            code="decision_date_too_old",
        )


def check_new_order(
    *,
    decision_date: date,
    planned_start_date: date | None,
    today: date,
    bounds: DateBounds = DateBounds(),
) -> None:
    """A decision within its bounds; a planned start not before it nor too far ahead."""
    check_decision_date(decision_date=decision_date, today=today, bounds=bounds)
    if planned_start_date is not None and planned_start_date < decision_date:
        raise Invalid(
            "the planned start date is before the decision date", code="start_before_decision"
        )
    check_dates_ahead(today=today, bounds=bounds, planned_start_date=planned_start_date)


def check_confirm(
    *,
    status: str,
    decision_date: date,
    start_date: date,
    today: date,
    bounds: DateBounds = DateBounds(),
) -> None:
    """A provider confirms an unconfirmed order once, from the decision date on, with a start
    date not too far ahead."""
    if status != OrderStatus.unconfirmed:
        raise _wrong_state("confirm", status)
    if start_date < decision_date:
        raise Invalid(
            f"the start date {start_date} is before the decision date {decision_date}",
            code="start_before_decision",
        )
    check_dates_ahead(today=today, bounds=bounds, start_date=start_date)


def check_withdraw(*, status: str, reason: str) -> None:
    """A caseworker withdraws an order only while it is unconfirmed, and says why."""
    if status != OrderStatus.unconfirmed:
        raise _wrong_state("withdraw", status)
    if not reason.strip():
        raise Invalid("give the reason for the withdrawal", code="withdraw_reason_missing")
    if len(reason) > WITHDRAW_REASON_MAX:
        raise Invalid(
            f"the reason for the withdrawal is longer than {WITHDRAW_REASON_MAX} characters",
            code="withdraw_reason_too_long",
        )
    try:
        free_text(reason)
    except ValueError as exc:
        raise Invalid(
            f"the reason for the withdrawal {exc}", code="withdraw_reason_unclean"
        ) from None


def check_end(
    *,
    status: str,
    start_date: date,
    end_date: date,
    reason: str,
    sure: bool,
    today: date,
    bounds: DateBounds = DateBounds(),
) -> None:
    """A provider ends a confirmed execution for a known reason, on or after its start date
    and not too far ahead, and must be sure."""
    if status not in (OrderStatus.confirmed, OrderStatus.ongoing):
        raise wrong_state("end", status)
    if reason not in {r.value for r in EndReason}:
        raise Invalid(
            f"the end reason {_shown(reason)} is not one of {', '.join(EndReason)}",
            code="unknown_end_reason",
        )
    if sure is not True:
        raise Invalid(
            "tick that you are sure you want to end the execution (confirmed: true)",
            code="end_not_confirmed",
        )
    if end_date < start_date:
        raise Invalid(
            f"the end date {end_date} is before the start date {start_date}",
            code="end_before_start",
        )
    check_dates_ahead(today=today, bounds=bounds, end_date=end_date)


@dataclass(frozen=True)
class ReminderPlan:
    """When the lifecycle nudges the unit about an unconfirmed order."""

    first_after: timedelta
    every: timedelta

    def due_at(self, created_at: datetime, sent: int) -> datetime:
        """When reminder number `sent + 1` is due."""
        return created_at + self.first_after + self.every * sent
