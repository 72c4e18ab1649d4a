"""The pure rules of absence (services/absence/domain.py)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.absence.domain import (
    Absence,
    Reason,
    Stay,
    at_stay_end,
    check_absence,
    check_dates,
    check_period,
    check_stays_known,
    counted_through,
    days_by_month,
    escalation_day,
    last_day,
    overlaps,
    whole_days,
)
from services.common.errors import Conflict, Invalid, NotFound

D = date.fromisoformat


def _stay(start: str, end: str | None = None) -> Stay:
    return Stay(
        execution_id=uuid.uuid4(),
        order_id=uuid.uuid4(),
        unit_id="solbacken",
        start_date=D(start),
        end_date=D(end) if end else None,
    )


def _absence(first: str, last: str | None = None, stay_end: str | None = None) -> Absence:
    return Absence(
        id=uuid.uuid4(),
        from_date=D(first),
        to_date=D(last) if last else None,
        stay_end=D(stay_end) if stay_end else None,
    )


def _check(first: str, last: str | None = None, *, stays=None, others=()) -> Stay:
    return check_absence(
        from_date=D(first),
        to_date=D(last) if last else None,
        stays=stays if stays is not None else [_stay("2025-01-01")],
        others=others,
    )


def test_the_five_reasons_of_the_manual():
    assert {r.value for r in Reason} == {
        "hospital",
        "short_term_care",
        "relatives",
        "vacation",
        "other",
    }


# --- dates and stays -----------------------------------------------------------------------


def test_last_day_before_first_is_refused_with_both_dates():
    with pytest.raises(Invalid) as refused:
        check_dates(from_date=D("2025-03-10"), to_date=D("2025-03-09"))
    assert refused.value.code == "to_before_from" and refused.value.status == 422
    assert "2025-03-09" in refused.value.message and "2025-03-10" in refused.value.message


def test_a_one_day_absence_and_an_open_one_are_fine():
    check_dates(from_date=D("2025-03-10"), to_date=D("2025-03-10"))
    check_dates(from_date=D("2025-03-10"), to_date=None)


def test_absence_inside_an_ongoing_stay_belongs_to_it():
    stay = _stay("2025-01-01")
    assert _check("2025-01-01", "2025-01-05", stays=[stay]) is stay
    assert _check("2025-06-01", stays=[stay]) is stay  # open


def test_absence_before_the_stay_began_is_refused():
    with pytest.raises(Invalid) as refused:
        _check("2024-12-31", "2025-01-03", stays=[_stay("2025-01-01")])
    assert refused.value.code == "outside_stay" and "2025-01-01" in refused.value.message


def test_absence_past_the_end_of_the_stay_is_refused():
    with pytest.raises(Invalid) as refused:
        _check("2025-02-20", "2025-03-02", stays=[_stay("2025-01-01", "2025-02-28")])
    assert refused.value.code == "outside_stay"


def test_an_open_absence_may_begin_in_a_stay_that_has_ended_and_ends_with_it():
    stay = _stay("2025-01-01", "2025-02-28")
    assert _check("2025-02-20", stays=[stay]) is stay
    assert last_day(None, stay.end_date) == D("2025-02-28")
    with pytest.raises(Invalid):
        _check("2025-03-01", stays=[stay])  # begins after it ended


def test_the_stay_the_absence_lies_in_is_chosen_among_several():
    first, second = _stay("2024-01-01", "2024-06-30"), _stay("2025-01-01")
    assert _check("2024-03-01", "2024-03-05", stays=[second, first]) is first
    assert _check("2025-03-01", stays=[second, first]) is second
    with pytest.raises(Invalid):
        _check("2024-08-01", "2024-08-02", stays=[first, second])  # between the stays


def test_no_stay_at_the_unit_is_a_404():
    with pytest.raises(NotFound) as refused:
        check_stays_known([])
    assert refused.value.code == "customer_not_found"
    check_stays_known([_stay("2025-01-01")])


def test_a_period_asked_for_cannot_end_before_it_begins():
    with pytest.raises(Invalid):
        check_period(first=D("2025-02-01"), last=D("2025-01-31"))
    check_period(first=D("2025-02-01"), last=None)
    check_period(first=None, last=D("2025-01-31"))


# --- overlaps ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("other", "new", "clash"),
    [
        (("2025-03-01", "2025-03-10"), ("2025-03-10", "2025-03-12"), True),  # shares a day
        (("2025-03-01", "2025-03-10"), ("2025-03-11", "2025-03-12"), False),  # the next day
        (("2025-03-05", "2025-03-10"), ("2025-03-01", "2025-03-04"), False),  # the day before
        (("2025-03-05", "2025-03-10"), ("2025-03-01", "2025-03-31"), True),  # around it
        (("2025-03-05", None), ("2025-04-01", "2025-04-02"), True),  # an open one goes on
        (("2025-03-05", None), ("2025-03-01", "2025-03-04"), False),
        (("2025-03-05", "2025-03-10"), ("2025-03-08", None), True),  # new open one
        (("2025-03-05", "2025-03-10"), ("2025-03-11", None), False),
    ],
)
def test_overlap_with_another_absence_of_the_customer(other, new, clash):
    others = [_absence(*other)]
    if clash:
        with pytest.raises(Conflict) as refused:
            _check(*new, others=others)
        assert refused.value.code == "absence_overlaps" and refused.value.status == 409
        assert other[0] in refused.value.message
    else:
        _check(*new, others=others)


def test_an_absence_left_open_in_an_ended_stay_ends_with_that_stay():
    old_open = _absence("2024-05-01", None, stay_end="2024-06-30")
    _check("2025-03-01", "2025-03-02", stays=[_stay("2025-01-01")], others=[old_open])
    with pytest.raises(Conflict):
        _check("2024-06-30", stays=[_stay("2024-01-01", "2024-06-30")], others=[old_open])


@given(
    a=st.dates(date(2024, 1, 1), date(2026, 12, 31)),
    a_len=st.integers(0, 60) | st.none(),
    b=st.dates(date(2024, 1, 1), date(2026, 12, 31)),
    b_len=st.integers(0, 60) | st.none(),
)
def test_overlap_is_symmetric_and_means_a_shared_day(a, a_len, b, b_len):
    a_last = None if a_len is None else a + timedelta(days=a_len)
    b_last = None if b_len is None else b + timedelta(days=b_len)
    assert overlaps(a, a_last, b, b_last) == overlaps(b, b_last, a, a_last)
    horizon = date(2027, 3, 1)  # past every end above: an open period runs to here
    a_days = {a + timedelta(days=i) for i in range(((a_last or horizon) - a).days + 1)}
    b_days = {b + timedelta(days=i) for i in range(((b_last or horizon) - b).days + 1)}
    assert overlaps(a, a_last, b, b_last) == bool(a_days & b_days)


# --- whole days without meals --------------------------------------------------------------


def test_whole_days_count_both_the_first_and_the_last_day():
    assert whole_days(D("2025-03-10"), D("2025-03-10")) == 1
    assert whole_days(D("2025-03-10"), D("2025-03-19")) == 10


def test_whole_days_across_month_ends_and_a_leap_day():
    assert whole_days(D("2025-01-25"), D("2025-02-05")) == 12
    assert days_by_month(D("2025-01-25"), D("2025-02-05")) == [("2025-01", 7), ("2025-02", 5)]
    assert days_by_month(D("2024-02-20"), D("2024-03-01")) == [("2024-02", 10), ("2024-03", 1)]
    assert days_by_month(D("2024-12-31"), D("2025-01-01")) == [("2024-12", 1), ("2025-01", 1)]
    assert days_by_month(D("2025-03-01"), D("2025-05-31")) == [
        ("2025-03", 31),
        ("2025-04", 30),
        ("2025-05", 31),
    ]


@given(first=st.dates(date(2020, 1, 1), date(2030, 12, 31)), length=st.integers(0, 400))
def test_days_by_month_add_up_to_the_whole_days(first, length):
    last = first + timedelta(days=length)
    months = days_by_month(first, last)
    assert sum(days for _, days in months) == whole_days(first, last) == length + 1
    assert [m for m, _ in months] == sorted({m for m, _ in months})
    assert months[0][0] == first.strftime("%Y-%m") and months[-1][0] == last.strftime("%Y-%m")


def test_an_open_absence_is_counted_through_yesterday_a_closed_one_through_its_last_day():
    today = D("2025-04-01")
    assert whole_days(D("2025-03-01"), counted_through(None, today)) == 31
    assert whole_days(D("2025-04-01"), counted_through(None, today)) == 0  # began today
    assert counted_through(D("2025-03-10"), today) == D("2025-03-10")
    assert counted_through(D("2025-05-10"), today) == D("2025-05-10")  # planned: all of it


# --- more than 30 days: the fee administrators are told ------------------------------------


def test_an_open_absence_is_escalated_once_31_whole_days_lie_behind_it():
    first = D("2025-01-15")
    day = escalation_day(from_date=first, to_date=None, stay_end=None)
    assert day == D("2025-02-15")  # 15 Jan through 14 Feb: 31 days
    assert whole_days(first, counted_through(None, day)) == 31
    assert whole_days(first, counted_through(None, day - timedelta(days=1))) == 30


def test_a_closed_absence_of_30_days_is_not_escalated_and_one_of_31_is():
    first = D("2025-01-01")
    assert escalation_day(from_date=first, to_date=D("2025-01-30"), stay_end=None) is None
    assert escalation_day(from_date=first, to_date=D("2025-01-31"), stay_end=None) == D(
        "2025-02-01"
    )


def test_a_45_day_absence_registered_afterwards_is_due_already():
    today = D("2025-06-01")
    first = today - timedelta(days=50)
    day = escalation_day(from_date=first, to_date=first + timedelta(days=44), stay_end=None)
    assert day is not None and day <= today


def test_an_open_absence_in_a_stay_that_ended_within_30_days_is_not_escalated():
    first = D("2025-01-01")
    assert escalation_day(from_date=first, to_date=None, stay_end=D("2025-01-20")) is None
    assert escalation_day(from_date=first, to_date=None, stay_end=D("2025-03-01")) == D(
        "2025-02-01"
    )


def test_an_absence_at_the_end_of_the_calendar_is_never_due():
    assert escalation_day(from_date=date(9999, 12, 1), to_date=None, stay_end=None) is None
    assert escalation_day(from_date=date(9999, 11, 29), to_date=None, stay_end=None) == date(
        9999, 12, 30
    )


# --- a stay's end --------------------------------------------------------------------------


def test_at_a_stays_end_absences_past_it_end_on_it_and_those_after_it_are_removed() -> None:
    end = date(2026, 3, 15)
    ids = {name: uuid.uuid4() for name in ("inside", "on", "across", "open", "after", "later")}
    absences = [
        Absence(id=ids["inside"], from_date=date(2026, 3, 1), to_date=date(2026, 3, 5)),
        Absence(id=ids["on"], from_date=date(2026, 3, 10), to_date=end),
        Absence(id=ids["across"], from_date=date(2026, 3, 12), to_date=date(2026, 3, 20)),
        Absence(id=ids["open"], from_date=end, to_date=None),
        Absence(id=ids["after"], from_date=date(2026, 3, 16), to_date=date(2026, 3, 17)),
        Absence(id=ids["later"], from_date=date(2026, 4, 1), to_date=None),
    ]
    changes = at_stay_end(absences, end_date=end)
    assert changes.ended == [ids["across"], ids["open"]]
    assert changes.removed == [ids["after"], ids["later"]]
