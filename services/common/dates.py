"""Calendar dates as the platform counts them: in Europe/Stockholm."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def today_in_stockholm(now: datetime | None = None) -> date:
    """The calendar date in Europe/Stockholm."""
    return (now or datetime.now(STOCKHOLM)).astimezone(STOCKHOLM).date()


def start_of_day(day: date) -> datetime:
    """Midnight at the start of `day` in Stockholm, as an aware datetime."""
    return datetime(day.year, day.month, day.day, tzinfo=STOCKHOLM)


def later(moment: datetime, delay: timedelta) -> datetime:
    """`moment` + `delay`, or the last moment of the calendar when that lies beyond it."""
    try:
        return moment + delay
    except OverflowError:
        return datetime.max.replace(tzinfo=moment.tzinfo)


# --- whole days of a period, as absence and its notices count them --------------------------


def last_day(to_date: date | None, stay_end: date | None) -> date | None:
    """The last day of a period inside a stay: its own, or the stay's end for an open one."""
    if to_date is None:
        return stay_end
    return to_date if stay_end is None else min(to_date, stay_end)


def whole_days(from_date: date, last: date) -> int:
    """Whole days from `from_date` through `last`, both included."""
    return max((last - from_date).days + 1, 0)


def counted_through(last: date | None, today: date) -> date:
    """The last day to count: the period's last day, or yesterday while it is still open."""
    return today - timedelta(days=1) if last is None else last


def days_by_month(from_date: date, last: date) -> list[tuple[str, int]]:
    """Whole days in each calendar month (`YYYY-MM`) of the period."""
    result: list[tuple[str, int]] = []
    day = from_date
    while day <= last:
        next_month = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
        month_last = min(last, next_month - timedelta(days=1))
        result.append((day.strftime("%Y-%m"), whole_days(day, month_last)))
        day = next_month
    return result


def day_after_more_than(
    days: int, *, from_date: date, to_date: date | None, stay_end: date | None
) -> date | None:
    """The day at whose start a period has lasted more than `days` whole days, or None.

    That is `from_date` + `days` + 1. An open period reaches it unless its stay ends
    before; a closed one when it has more than `days` days. The day may lie in the past.
    """
    end = last_day(to_date, stay_end)
    if end is not None and whole_days(from_date, end) <= days:
        return None
    if from_date > date.max - timedelta(days=days + 1):
        return None  # a day past the calendar's end never comes
    return from_date + timedelta(days=days + 1)
