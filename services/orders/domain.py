"""The rules of customers, orders and executions: pure functions, no I/O."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

# re-exported: callers took the Stockholm calendar from here before services/common/dates.py
from services.common.dates import STOCKHOLM as STOCKHOLM
from services.common.dates import start_of_day as start_of_day
from services.common.dates import today_in_stockholm as today_in_stockholm
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


# A list filter `confirmed` shows every order that has been confirmed and not ended.
STATUS_FILTER: dict[str, tuple[OrderStatus, ...]] = {
    "unconfirmed": (OrderStatus.unconfirmed,),
    "confirmed": (OrderStatus.confirmed, OrderStatus.ongoing),
    "ended": (OrderStatus.ended,),
    "withdrawn": (OrderStatus.withdrawn,),
}


# --- personnummer -------------------------------------------------------------------------

_PERSONNUMMER = re.compile(r"^(\d{2})?(\d{2})(\d{2})(\d{2})([-+]?)(\d{3})(\d)$", re.ASCII)


# no one born before this year is alive (Skatteverket's oldest test numbers are from 1890)
EARLIEST_BIRTH_YEAR = 1890


def luhn_check_digit(nine_digits: str) -> int:
    """The check digit of a personnummer's first nine digits (YYMMDDNNN)."""
    total = 0
    for i, ch in enumerate(nine_digits):
        product = int(ch) * (2 if i % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


def normalize_personnummer(value: str, *, today: date | None = None) -> str:
    """Validate a personnummer or samordningsnummer and return it as 12 digits `YYYYMMDDNNNC`.

    Accepts 10 or 12 digits with or without `-`; with 10 digits `+` means 100 years or older.
    """
    today = today or today_in_stockholm()
    text = value.strip().replace(" ", "")
    match = _PERSONNUMMER.match(text)
    if not match:
        raise Invalid(
            "a personnummer has 10 or 12 digits, e.g. 19121212-1212 or 121212-1212",
            code="invalid_personnummer",
        )
    century, yy, mm, dd, separator, serial, check = match.groups()
    day_number = int(dd)
    if day_number > 60:  # samordningsnummer: the day of birth plus 60
        day_number -= 60
    if century is None:
        year = _year_from_two_digits(int(yy), int(mm), day_number, today, separator == "+")
    else:
        year = int(century + yy)
    try:
        birth = date(year, int(mm), day_number)
    except ValueError as exc:
        raise Invalid(f"{yy}{mm}{dd} is not a date of birth", code="invalid_personnummer") from exc
    if birth > today:
        raise Invalid("the date of birth lies in the future", code="invalid_personnummer")
    if birth.year < EARLIEST_BIRTH_YEAR:
        raise Invalid(
            f"a date of birth before {EARLIEST_BIRTH_YEAR} is not a living person's",
            code="invalid_personnummer",
        )
    if luhn_check_digit(yy + mm + dd + serial) != int(check):
        raise Invalid(
            "the check digit is wrong; check the number for a typo", code="invalid_personnummer"
        )
    return f"{year:04d}{mm}{dd}{serial}{check}"


def _year_from_two_digits(yy: int, mm: int, day: int, today: date, centenarian: bool) -> int:
    """The latest year ending in `yy` whose date is not in the future (one century more for +)."""
    year = today.year - (today.year - yy) % 100
    try:
        if date(year, mm, day) > today:
            year -= 100
    except ValueError:
        # 29 February in a century year that is no leap year (2100): the one before is meant
        year -= 100
    return year - 100 if centenarian else year


def format_personnummer(twelve_digits: str) -> str:
    """`YYYYMMDD-NNNC`, the way it is written on paper."""
    return f"{twelve_digits[:8]}-{twelve_digits[8:]}"


def looks_like_personnummer(query: str) -> bool:
    """True when a search text has the shape of a personnummer (10 or 12 digits)."""
    return _PERSONNUMMER.match(query.strip().replace(" ", "")) is not None


# --- order transitions --------------------------------------------------------------------


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


def later(moment: datetime, delay: timedelta) -> datetime:
    """`moment` + `delay`, or the last moment of the calendar when that lies beyond it."""
    try:
        return moment + delay
    except OverflowError:
        return datetime.max.replace(tzinfo=moment.tzinfo)


def check_new_order(*, decision_date: date, planned_start_date: date | None) -> None:
    """A planned start cannot come before the decision."""
    if planned_start_date is not None and planned_start_date < decision_date:
        raise Invalid(
            "the planned start date is before the decision date", code="start_before_decision"
        )


# --- IVO: decisions not executed within three months ---------------------------------------


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day where it has no such day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def ivo_reportable_since(decision_date: date) -> date:
    """The day an unexecuted decision becomes reportable to IVO: three months after it."""
    return add_months(decision_date, 3)


def unexecuted_cutoff(today: date) -> date:
    """Orders decided on or before this day and still unconfirmed are reportable today."""
    cutoff = add_months(today, -3)
    # a decision on 31 Nov does not exist; the last decision date reportable today
    while ivo_reportable_since(cutoff + timedelta(days=1)) <= today:
        cutoff += timedelta(days=1)
    return cutoff


@dataclass(frozen=True)
class ReminderPlan:
    """When the lifecycle nudges the unit about an unconfirmed order."""

    first_after: timedelta
    every: timedelta

    def due_at(self, created_at: datetime, sent: int) -> datetime:
        """When reminder number `sent + 1` is due."""
        return created_at + self.first_after + self.every * sent
