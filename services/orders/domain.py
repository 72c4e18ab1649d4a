"""The rules of customers, orders and executions: pure functions, no I/O."""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from services.common.dates import today_in_stockholm
from services.common.errors import Invalid
from workflows.order_rules import DateBounds as DateBounds
from workflows.order_rules import EndReason as EndReason
from workflows.order_rules import OrderStatus as OrderStatus
from workflows.order_rules import ReminderPlan as ReminderPlan
from workflows.order_rules import check_actor as check_actor
from workflows.order_rules import check_confirm as check_confirm
from workflows.order_rules import check_decision_date as check_decision_date
from workflows.order_rules import check_end as check_end
from workflows.order_rules import check_new_order as check_new_order
from workflows.order_rules import check_withdraw as check_withdraw
from workflows.order_rules import wrong_state as wrong_state

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


# --- who sees a customer ------------------------------------------------------------------


def customer_visible_since(today: date, keep_after_end: timedelta) -> date:
    """A unit keeps seeing a customer whose stay there ended on or after this day."""
    try:
        return today - timedelta(days=keep_after_end.days)
    except OverflowError:
        return date.min


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
