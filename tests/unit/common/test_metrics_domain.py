"""When the month's billing run is overdue: from 06:00 on the 1st, Stockholm time."""

from __future__ import annotations

from datetime import UTC, date, datetime

from services.common.metrics_domain import billing_overdue, previous_period


def test_the_run_is_overdue_from_six_on_the_first_stockholm_time_until_it_completes() -> None:
    # 1 December 2026, 04:59 and 05:00 UTC: 05:59 and 06:00 in Stockholm (CET)
    assert not billing_overdue(datetime(2026, 12, 1, 4, 59, tzinfo=UTC), completed=False)
    assert billing_overdue(datetime(2026, 12, 1, 5, 0, tzinfo=UTC), completed=False)
    assert billing_overdue(datetime(2026, 12, 2, 0, 0, tzinfo=UTC), completed=False)
    assert not billing_overdue(datetime(2026, 12, 1, 5, 0, tzinfo=UTC), completed=True)
    # summer time (CEST): 06:00 in Stockholm is 04:00 UTC
    assert billing_overdue(datetime(2026, 7, 1, 4, 0, tzinfo=UTC), completed=False)


def test_the_period_due_is_the_previous_month() -> None:
    assert previous_period(date(2026, 12, 1)) == date(2026, 11, 1)
    assert previous_period(date(2026, 1, 31)) == date(2025, 12, 1)
