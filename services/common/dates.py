"""Calendar dates as the platform counts them: in Europe/Stockholm."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def today_in_stockholm(now: datetime | None = None) -> date:
    """The calendar date in Europe/Stockholm."""
    return (now or datetime.now(STOCKHOLM)).astimezone(STOCKHOLM).date()


def start_of_day(day: date) -> datetime:
    """Midnight at the start of `day` in Stockholm, as an aware datetime."""
    return datetime(day.year, day.month, day.day, tzinfo=STOCKHOLM)
