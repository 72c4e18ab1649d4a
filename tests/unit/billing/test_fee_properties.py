"""Properties of the fee rules that hold for any stay, absence and amount (hypothesis)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.billing.domain import (
    REASONS,
    Absence,
    Period,
    Span,
    charged_days,
    month_fee,
    month_fees,
)

periods = st.builds(Period, st.integers(2020, 2030), st.integers(1, 12))
monthly = st.integers(0, 1_000_000)
reasons = st.sampled_from(REASONS)


@st.composite
def month_and_days(draw):
    period = draw(periods)
    return period, draw(st.integers(0, period.days))


@st.composite
def span_around(draw, period: Period, *, open_allowed: bool = True):
    """A span that may start before, end after or stay open beyond the month."""
    first = period.first_day + timedelta(days=draw(st.integers(-40, period.days - 1)))
    if open_allowed and draw(st.booleans()):
        return Span(first)
    return Span(first, first + timedelta(days=draw(st.integers(0, 70))))


@st.composite
def customer_month(draw):
    period = draw(periods)
    stays = draw(st.lists(span_around(period), min_size=1, max_size=3))
    absences = [
        Absence(draw(reasons), span.first, span.last)
        for span in draw(st.lists(span_around(period), max_size=3))
    ]
    return period, stays, absences


def _fees(period, stays, absences, food, care):
    return {
        fee.kind: fee
        for fee in month_fees(
            period,
            stays=stays,
            absences=absences,
            food_monthly=food,
            care_monthly=care,
            care_max=care,
        )
    }


@given(monthly, month_and_days())
def test_a_fee_lies_between_zero_and_the_monthly_amount(amount, month):
    period, days = month
    assert 0 <= month_fee(amount, period.days - days) <= amount


@given(monthly, st.integers(0, 31), st.integers(0, 31))
def test_more_days_not_charged_never_cost_more(amount, a, b):
    fewer, more = sorted((a, b))
    assert month_fee(amount, more) <= month_fee(amount, fewer)


@given(customer_month(), monthly, monthly)
def test_every_fee_of_a_month_lies_between_zero_and_its_monthly_amount(month, food, care):
    period, stays, absences = month
    for fee in _fees(period, stays, absences, food, care).values():
        assert 0 <= fee.amount <= fee.monthly
        assert 0 <= fee.days <= period.days


@given(customer_month(), st.data(), monthly, monthly)
def test_more_absence_never_costs_more(month, data, food, care):
    period, stays, absences = month
    extra = data.draw(span_around(period))
    more = [*absences, Absence(data.draw(reasons), extra.first, extra.last)]
    before = _fees(period, stays, absences, food, care)
    after = _fees(period, stays, more, food, care)
    for kind, fee in before.items():
        assert after[kind].amount <= fee.amount
        assert after[kind].days <= fee.days


@given(periods, st.data(), monthly, monthly)
def test_a_month_split_into_two_stays_never_costs_more_than_a_whole_one(period, data, food, care):
    first = period.first_day + timedelta(days=data.draw(st.integers(-40, period.days - 1)))
    last = data.draw(st.one_of(st.none(), st.dates(first, first + timedelta(days=80))))
    whole = Span(first, last)
    end = last or period.last_day + timedelta(days=40)
    cut = first + timedelta(days=data.draw(st.integers(0, (end - first).days)))
    gap = data.draw(st.integers(0, 5))  # the second stay may start some days later
    second_first = cut + timedelta(days=1 + gap)
    split = [Span(first, cut)]
    if last is None or second_first <= last:
        split.append(Span(second_first, last))
    absences = [Absence("hospital", *_within(data, period))] if data.draw(st.booleans()) else []
    whole_fees = _fees(period, [whole], absences, food, care)
    split_fees = _fees(period, split, absences, food, care)
    for kind, fee in whole_fees.items():
        assert split_fees[kind].amount <= fee.amount
        if gap == 0:
            assert split_fees[kind] == fee


def _within(data, period: Period) -> tuple[date, date]:
    first = data.draw(st.dates(period.first_day, period.last_day))
    return first, data.draw(st.dates(first, period.last_day))


@given(customer_month())
def test_charged_days_never_count_a_day_twice_or_outside_the_month(month):
    period, stays, absences = month
    days = charged_days(period, stays, [a.span for a in absences])
    assert 0 <= days <= period.days
    assert days <= charged_days(period, stays, [])
