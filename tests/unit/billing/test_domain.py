"""The fee rules of DESIGN.md (services/billing/domain.py), worked through by hand."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

import pytest

from services.billing.domain import (
    Absence,
    FeeDecision,
    FeeKind,
    HoldReason,
    Period,
    Span,
    charged_days,
    check_billable,
    check_fee_decision,
    check_tariff_start,
    check_tariffs,
    correction,
    correction_window_start,
    corrects,
    day_rate,
    decision_for,
    format_ore,
    hold_reasons,
    invoice_number,
    line_kind,
    month_fee,
    month_fees,
    parse_kronor,
    period_to_bill,
    round_half_up,
    touches_long_absence,
)
from services.billing.texts import describe_line
from services.common.errors import Invalid

FOOD = 400_000  # 4 000 kr, Haninge
MAXTAXA = 266_000  # 2 660 kr, 2026
NOV = Period(2026, 11)  # 30 days
DEC = Period(2026, 12)  # 31 days
FEB = Period(2026, 2)  # 28 days
FEB_LEAP = Period(2028, 2)  # 29 days


def fees(period: Period, stays, absences=(), care=MAXTAXA, reasons=("hospital",)) -> dict:
    result = month_fees(
        period,
        stays=list(stays),
        absences=list(absences),
        food_monthly=FOOD,
        care_monthly=care,
        care_max=MAXTAXA,
        care_reasons=reasons,
    )
    return {fee.kind: (fee.days, fee.amount) for fee in result}


def d(text: str) -> date:
    return date.fromisoformat(text)


# --- periods -------------------------------------------------------------------------------


def test_a_period_reads_and_writes_yyyy_mm():
    assert Period.parse("2026-11") == NOV and str(NOV) == "2026-11"
    assert (NOV.first_day, NOV.last_day, NOV.days) == (d("2026-11-01"), d("2026-11-30"), 30)
    assert [Period(2026, m).days for m in (2, 4, 12)] == [28, 30, 31]
    assert FEB_LEAP.days == 29
    assert Period(2026, 1).previous() == Period(2025, 12) and DEC.next() == Period(2027, 1)


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "26-11", "2026/11", "november", ""])
def test_a_period_that_is_no_month_is_refused(text):
    with pytest.raises(Invalid, match="a period is a month written YYYY-MM"):
        Period.parse(text)


def test_a_run_bills_the_previous_month_and_never_one_that_has_not_ended():
    assert period_to_bill(d("2026-12-01")) == NOV
    assert period_to_bill(d("2027-01-01")) == DEC
    check_billable(NOV, d("2026-12-01"))
    with pytest.raises(Invalid, match="2026-12 has not ended yet"):
        check_billable(DEC, d("2026-12-31"))


# --- the day rate and the month fee ----------------------------------------------------------


def test_the_day_rate_is_the_monthly_amount_over_thirty_exactly():
    assert day_rate(FOOD) == Fraction(40_000, 3)  # 133.33… kr
    assert day_rate(MAXTAXA) == Fraction(26_600, 3)


@pytest.mark.parametrize("period", [FEB, FEB_LEAP, NOV, DEC])
def test_a_full_month_costs_exactly_the_monthly_amount_whatever_its_length(period):
    full = [Span(period.first_day - timedelta(days=40))]
    assert fees(period, full) == {
        FeeKind.food: (period.days, FOOD),
        FeeKind.care: (period.days, MAXTAXA),
    }


def test_month_fee_takes_a_day_rate_per_day_not_charged_and_rounds_half_up():
    assert month_fee(FOOD, 0) == FOOD
    assert month_fee(FOOD, 1) == 386_667  # 3866.666… kr → 3866.67
    assert month_fee(FOOD, 14) == 213_333  # 2133.333… kr → 2133.33
    assert month_fee(264_225, 29) == 8_808  # 88.075 kr: the half goes up
    assert month_fee(264_225, 27) == 26_423  # 264.225 kr → 264.23
    assert month_fee(15, 29) == 1  # half an öre is an öre
    assert month_fee(14, 29) == 0


def test_a_month_fee_is_never_below_zero():
    assert month_fee(FOOD, 30) == 0
    assert month_fee(FOOD, 31) == 0  # a 31-day month with no day charged


def test_round_half_up_goes_to_the_nearest_ore_and_up_on_a_half():
    assert [round_half_up(Fraction(n, 10)) for n in (4, 5, 6, 14, 15, 25)] == [0, 1, 1, 1, 2, 3]


def test_month_fee_refuses_negative_inputs():
    with pytest.raises(ValueError):
        month_fee(-1, 0)
    with pytest.raises(ValueError):
        month_fee(100, -1)


# --- moving in and out -------------------------------------------------------------------------


def test_moving_in_mid_month_charges_from_the_first_day_of_the_stay():
    # 15–30 November: 16 days, 14 not charged
    assert fees(NOV, [Span(d("2026-11-15"))]) == {
        FeeKind.food: (16, 213_333),
        FeeKind.care: (16, 141_867),  # 2660 − 14 × 88.666… = 1418.666… → 1418.67
    }


def test_moving_out_mid_month_charges_up_to_and_including_the_last_day():
    # 1–10 December: 10 days, 21 not charged
    assert fees(DEC, [Span(d("2026-05-01"), d("2026-12-10"))]) == {
        FeeKind.food: (10, 120_000),  # 4000 − 21 × 133.33… = 1200.00
        FeeKind.care: (10, 79_800),
    }


def test_moving_in_and_out_in_the_same_month():
    assert fees(NOV, [Span(d("2026-11-10"), d("2026-11-19"))])[FeeKind.food] == (10, 133_333)
    assert fees(NOV, [Span(d("2026-11-01"), d("2026-11-20"))])[FeeKind.food] == (20, 266_667)


def test_the_last_day_of_a_31_day_month_alone_costs_nothing():
    # 30 days not charged: 4000 − 30 × 133.33… = 0
    assert fees(DEC, [Span(d("2026-12-31"))])[FeeKind.food] == (1, 0)
    assert fees(DEC, [Span(d("2026-12-30"))])[FeeKind.food] == (2, 13_333)
    assert fees(DEC, [Span(d("2026-12-29"))])[FeeKind.food] == (3, 26_667)


def test_a_31_day_month_with_one_day_outside_the_stay_costs_one_day_rate_less():
    assert fees(DEC, [Span(d("2026-12-02"))])[FeeKind.food] == (30, 386_667)


@pytest.mark.parametrize(("period", "days"), [(FEB, 14), (FEB_LEAP, 15), (NOV, 16), (DEC, 17)])
def test_moving_in_on_the_15th_leaves_14_days_not_charged_whatever_the_month(period, days):
    move_in = period.first_day + timedelta(days=14)
    assert fees(period, [Span(move_in)])[FeeKind.food] == (days, 213_333)  # 4000 − 14 × 133.33…


@pytest.mark.parametrize(
    ("period", "food"), [(FEB, 213_333), (FEB_LEAP, 200_000), (NOV, 186_667), (DEC, 173_333)]
)
def test_moving_out_on_the_14th_costs_less_the_longer_the_month(period, food):
    # 28, 29, 30, 31-day months: 14, 15, 16, 17 days not charged
    stay = [Span(period.first_day - timedelta(days=100), period.first_day + timedelta(days=13))]
    assert fees(period, stay)[FeeKind.food] == (14, food)


def test_february_full_costs_the_monthly_amount_though_it_has_28_days():
    assert fees(FEB, [Span(d("2026-02-01"), d("2026-02-28"))])[FeeKind.food] == (28, FOOD)
    assert fees(FEB, [Span(d("2026-02-02"), d("2026-02-28"))])[FeeKind.food] == (27, 386_667)


def test_two_stays_in_a_month_are_charged_as_the_days_they_cover_together():
    split = [Span(d("2026-11-01"), d("2026-11-14")), Span(d("2026-11-15"))]
    assert fees(NOV, split) == fees(NOV, [Span(d("2026-11-01"))])
    overlapping = [Span(d("2026-11-01"), d("2026-11-20")), Span(d("2026-11-10"))]
    assert fees(NOV, overlapping)[FeeKind.food] == (30, FOOD)
    with_gap = [Span(d("2026-11-01"), d("2026-11-09")), Span(d("2026-11-21"))]
    assert fees(NOV, with_gap)[FeeKind.food] == (19, 253_333)


def test_no_stay_in_the_month_charges_nothing():
    assert fees(NOV, [Span(d("2026-12-01"))])[FeeKind.food] == (0, 0)
    assert fees(NOV, [Span(d("2026-01-01"), d("2026-10-31"))])[FeeKind.food] == (0, 0)


def test_a_february_without_a_day_of_stay_costs_nothing_though_28_days_are_not_30():
    # the formula alone would leave two day rates: 4000 − 28 × 133.33… = 266.67
    gone = [Span(d("2025-06-01"), d("2026-01-31"))]
    assert fees(FEB, gone) == {FeeKind.food: (0, 0), FeeKind.care: (0, 0)}


def test_a_february_absent_throughout_still_costs_two_day_rates_as_the_rule_says():
    away = [Absence("hospital", d("2026-01-20"), d("2026-03-03"))]
    assert fees(FEB, [Span(d("2025-06-01"))], away) == {
        FeeKind.food: (0, month_fee(FOOD, 28)),  # 266.67 kr
        FeeKind.care: (0, month_fee(MAXTAXA, 28)),
    }
    assert month_fee(FOOD, 28) == 26_667


# --- absence ---------------------------------------------------------------------------------

ALL_NOVEMBER = [Span(d("2026-01-01"))]


def test_an_absence_inside_the_month_is_not_charged_for_food():
    away = [Absence("relatives", d("2026-11-10"), d("2026-11-14"))]  # 5 whole days
    assert fees(NOV, ALL_NOVEMBER, away) == {
        FeeKind.food: (25, 333_333),
        FeeKind.care: (30, MAXTAXA),  # relatives is not a care reason
    }


def test_care_does_not_charge_days_in_hospital_by_default():
    away = [Absence("hospital", d("2026-11-10"), d("2026-11-14"))]
    assert fees(NOV, ALL_NOVEMBER, away) == {
        FeeKind.food: (25, 333_333),
        FeeKind.care: (25, 221_667),  # 2660 − 5 × 88.666… = 2216.666… → 2216.67
    }


def test_the_reasons_that_spare_the_care_fee_are_configured():
    away = [
        Absence("hospital", d("2026-11-02"), d("2026-11-03")),
        Absence("short_term_care", d("2026-11-10"), d("2026-11-12")),
    ]
    only_hospital = fees(NOV, ALL_NOVEMBER, away)
    both = fees(NOV, ALL_NOVEMBER, away, reasons=("hospital", "short_term_care"))
    assert only_hospital[FeeKind.care] == (28, month_fee(MAXTAXA, 2))
    assert both[FeeKind.care] == (25, month_fee(MAXTAXA, 5))
    assert only_hospital[FeeKind.food] == both[FeeKind.food] == (25, 333_333)


def test_an_absence_across_a_month_end_is_split_between_the_months():
    away = [Absence("vacation", d("2026-11-27"), d("2026-12-05"))]
    assert fees(NOV, ALL_NOVEMBER, away)[FeeKind.food] == (26, month_fee(FOOD, 4))
    assert fees(DEC, ALL_NOVEMBER, away)[FeeKind.food] == (26, month_fee(FOOD, 5))


def test_an_open_absence_counts_to_the_end_of_the_month():
    away = [Absence("hospital", d("2026-11-21"))]
    assert fees(NOV, ALL_NOVEMBER, away) == {
        FeeKind.food: (20, month_fee(FOOD, 10)),
        FeeKind.care: (20, month_fee(MAXTAXA, 10)),
    }
    assert fees(DEC, ALL_NOVEMBER, away)[FeeKind.food] == (0, 0)


def test_absence_outside_the_stay_takes_no_day_twice():
    stay = [Span(d("2026-11-16"))]
    away = [Absence("relatives", d("2026-11-10"), d("2026-11-17"))]  # 2 days inside the stay
    assert fees(NOV, stay, away)[FeeKind.food] == (13, month_fee(FOOD, 17))


def test_a_whole_month_absent_costs_nothing_for_food():
    away = [Absence("vacation", d("2026-10-20"), d("2026-12-02"))]
    assert fees(NOV, ALL_NOVEMBER, away)[FeeKind.food] == (0, 0)


# --- the care fee ------------------------------------------------------------------------------


def test_without_a_fee_decision_there_is_no_care_fee():
    assert fees(NOV, ALL_NOVEMBER, care=None) == {FeeKind.food: (30, FOOD)}


def test_the_care_fee_is_the_decision_and_never_above_the_maxtaxa():
    assert fees(NOV, ALL_NOVEMBER, care=150_000)[FeeKind.care] == (30, 150_000)
    assert fees(NOV, ALL_NOVEMBER, care=300_000)[FeeKind.care] == (30, MAXTAXA)


def test_a_fee_decision_above_the_maxtaxa_is_refused():
    maxtaxa = {d("2025-01-01"): 264_200, d("2026-01-01"): MAXTAXA}
    check_fee_decision(
        care_monthly=MAXTAXA, valid_from=d("2026-03-05"), valid_to=None, care_max_by_start=maxtaxa
    )
    with pytest.raises(Invalid, match=r"above the maxtaxa 2660\.00") as caught:
        check_fee_decision(
            care_monthly=MAXTAXA + 1,
            valid_from=d("2026-03-05"),
            valid_to=None,
            care_max_by_start=maxtaxa,
        )
    assert caught.value.code == "above_maxtaxa"
    with pytest.raises(Invalid, match=r"above the maxtaxa 2642\.00"):
        check_fee_decision(
            care_monthly=265_000,
            valid_from=d("2025-06-01"),
            valid_to=None,
            care_max_by_start=maxtaxa,
        )


def test_a_fee_decision_needs_a_maxtaxa_and_must_run_forward():
    maxtaxa = {d("2026-01-01"): MAXTAXA}
    with pytest.raises(Invalid, match="no maxtaxa for 2025-12"):
        check_fee_decision(
            care_monthly=1, valid_from=d("2025-12-01"), valid_to=None, care_max_by_start=maxtaxa
        )
    with pytest.raises(Invalid, match="before valid_from"):
        check_fee_decision(
            care_monthly=1,
            valid_from=d("2026-03-01"),
            valid_to=d("2026-02-01"),
            care_max_by_start=maxtaxa,
        )


def test_the_decision_of_a_month_is_the_latest_in_force_on_some_day_of_it():
    old = FeeDecision(100_000, d("2026-01-01"), d("2026-11-10"))
    new = FeeDecision(120_000, d("2026-11-11"))
    ended = FeeDecision(90_000, d("2025-01-01"), d("2025-12-31"))
    assert decision_for(NOV, [old, new, ended]) == new
    assert decision_for(Period(2026, 10), [old, new, ended]) == old
    assert decision_for(Period(2025, 6), [old, new, ended]) == ended
    assert decision_for(Period(2024, 6), [old, new, ended]) is None


def test_a_tariff_starts_on_the_first_of_a_month():
    check_tariff_start(d("2026-01-01"))
    with pytest.raises(Invalid, match="first of a month"):
        check_tariff_start(d("2026-01-15"))


# --- holding and correcting ------------------------------------------------------------------


def test_an_invoice_is_held_without_a_fee_decision_or_with_an_absence_over_30_days():
    assert hold_reasons(NOV, has_fee_decision=True, absences=[]) == []
    assert hold_reasons(NOV, has_fee_decision=False, absences=[]) == [HoldReason.no_fee_decision]
    long = Absence("hospital", d("2026-10-15"), d("2026-11-14"))  # 31 days
    short = Absence("hospital", d("2026-10-16"), d("2026-11-14"))  # 30 days
    assert hold_reasons(NOV, has_fee_decision=True, absences=[long]) == [HoldReason.long_absence]
    assert hold_reasons(NOV, has_fee_decision=True, absences=[short]) == []


def test_a_long_absence_holds_each_month_it_touches_and_open_ones_count_to_the_month_end():
    long = Absence("hospital", d("2026-10-20"), d("2026-12-03"))
    assert [touches_long_absence(p, long) for p in (Period(2026, 9), NOV, DEC)] == [
        False,
        True,
        True,
    ]
    open_since = Absence("hospital", d("2026-11-05"))
    assert not touches_long_absence(NOV, open_since)  # 26 days by 30 November
    assert touches_long_absence(DEC, open_since)  # 57 days by 31 December


def test_a_correction_is_what_the_rules_give_now_less_what_was_billed():
    assert correction(due=333_333, billed=FOOD) == -66_667
    assert correction(due=FOOD, billed=0) == FOOD
    assert correction(due=FOOD, billed=FOOD) == 0


# --- money in the API ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "months", "first"),
    [
        (Period(2026, 11), 36, Period(2023, 11)),
        (Period(2026, 11), 11, Period(2025, 12)),
        (Period(2026, 1), 1, Period(2025, 12)),
        (Period(2026, 3), 15, Period(2024, 12)),
        (Period(2026, 11), 0, Period(2026, 11)),
    ],
)
def test_the_correction_window_begins_its_months_before_the_month_billed(period, months, first):
    assert correction_window_start(period, months) == first


def test_a_run_corrects_the_months_of_its_window_only():
    billed = Period(2026, 11)
    assert corrects(billed, Period(2023, 11), months=36)  # the window's first month
    assert corrects(billed, Period(2026, 10), months=36)
    assert not corrects(billed, Period(2023, 10), months=36)  # one month older
    assert not corrects(billed, Period(1, 1), months=36)  # the order of issue 14
    assert not corrects(billed, billed, months=36)  # the month itself is billed, not corrected
    assert not corrects(billed, Period(2026, 10), months=0)  # 0: no earlier month at all


def test_money_is_written_with_two_decimals():
    assert [format_ore(n) for n in (333_333, 0, 5, -66_667, FOOD)] == [
        "3333.33",
        "0.00",
        "0.05",
        "-666.67",
        "4000.00",
    ]


@pytest.mark.parametrize(
    ("value", "ore"), [("2660.00", MAXTAXA), ("2660", MAXTAXA), (2660, MAXTAXA), ("0.5", 50)]
)
def test_kronor_are_read_into_ore(value, ore):
    assert parse_kronor(value) == ore


@pytest.mark.parametrize("value", ["12.345", "-1", "abc", "NaN", "Infinity", ""])
def test_an_amount_that_is_not_kronor_with_two_decimals_is_refused(value):
    with pytest.raises(Invalid, match="at most two decimals") as caught:
        parse_kronor(value, field="care_monthly_amount")
    assert "care_monthly_amount" in caught.value.message and caught.value.code == "bad_amount"


@pytest.mark.parametrize("value", ["1e400", "10000000", 10**30])
def test_an_amount_no_fee_can_reach_is_refused(value):
    with pytest.raises(Invalid, match="not a plausible monthly amount"):
        parse_kronor(value)


def test_charged_days_counts_each_day_once():
    assert charged_days(NOV, [Span(d("2026-11-01")), Span(d("2026-11-01"))], []) == 30


def test_an_invoice_reads_in_swedish_and_names_what_a_correction_corrects():
    assert invoice_number(2026, 42) == "2026-000042"
    assert line_kind("food", correction=False) == "food"
    assert line_kind("care", correction=True) == "care_correction"
    assert (
        describe_line(fee="food", correction=False, period=NOV, days=16, billed_before=0)
        == "Kost november 2026, 16 av 30 dagar"
    )
    correction_text = describe_line(
        fee="care", correction=True, period=NOV, days=25, billed_before=MAXTAXA
    )
    assert correction_text == (
        "Rättelse omvårdnad november 2026: 25 av 30 dagar enligt dagens uppgifter, "
        "tidigare fakturerat 2660.00 kr"
    )


def test_a_month_is_billed_only_with_its_tariffs():
    check_tariffs(NOV, food=FOOD, care_max=MAXTAXA)
    with pytest.raises(Invalid, match="no food and no care_max tariff for 2026-11"):
        check_tariffs(NOV, food=None, care_max=None)
    with pytest.raises(Invalid, match="no care_max tariff"):
        check_tariffs(NOV, food=FOOD, care_max=None)
