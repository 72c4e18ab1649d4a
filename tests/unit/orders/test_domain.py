"""The pure rules of customers, orders and executions (services/orders/domain.py)."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common.dates import STOCKHOLM, later, start_of_day, today_in_stockholm
from services.common.errors import Conflict, Invalid
from services.orders.domain import (
    STATUS_FILTER,
    OrderStatus,
    ReminderPlan,
    add_months,
    check_confirm,
    check_end,
    check_new_order,
    check_withdraw,
    format_personnummer,
    ivo_reportable_since,
    looks_like_personnummer,
    luhn_check_digit,
    normalize_personnummer,
    unexecuted_cutoff,
)

TODAY = date(2025, 6, 1)

# Skatteverket's published test personnummer.
TEST_1890 = "189001019802"
TEST_2017 = "201701012393"

NOT_TEN_OR_TWELVE = "a personnummer has 10 or 12 digits, e.g. 19121212-1212 or 121212-1212"
WRONG_CHECK_DIGIT = "the check digit is wrong; check the number for a typo"
IN_THE_FUTURE = "the date of birth lies in the future"


def _check_digit(nine: str) -> str:
    """Luhn over YYMMDDNNN, written independently of the code under test."""
    total = 0
    for i, ch in enumerate(nine):
        product = int(ch) * (2 - i % 2)
        total += sum(divmod(product, 10))
    return str(-total % 10)


def _pnr(yyyymmdd: str, serial: str = "980") -> str:
    """A 12-digit test number (serial 98x) with a valid check digit."""
    return yyyymmdd + serial + _check_digit(yyyymmdd[2:] + serial)


def _refusal(value: str, today: date = TODAY) -> Invalid:
    with pytest.raises(Invalid) as caught:
        normalize_personnummer(value, today=today)
    assert caught.value.code == "invalid_personnummer"
    assert caught.value.status == 422
    return caught.value


# --- personnummer: accepted forms ----------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("189001019802", TEST_1890),
        ("18900101-9802", TEST_1890),
        ("900101+9802", TEST_1890),
        ("201701012393", TEST_2017),
        ("20170101-2393", TEST_2017),
        ("170101-2393", TEST_2017),
        ("1701012393", TEST_2017),
    ],
)
def test_personnummer_in_every_accepted_form_is_stored_as_twelve_digits(
    written: str, stored: str
) -> None:
    assert normalize_personnummer(written, today=TODAY) == stored


def test_ten_digits_with_hyphen_mean_younger_than_one_hundred() -> None:
    assert normalize_personnummer("900101-9802", today=TODAY) == "199001019802"


def test_ten_digits_with_plus_mean_one_hundred_years_or_older() -> None:
    assert normalize_personnummer("170101+2393", today=TODAY) == "191701012393"


def test_ten_digits_with_a_birthday_still_ahead_this_year_mean_the_last_century() -> None:
    later_this_year = _pnr("19250701")
    assert normalize_personnummer(later_this_year[2:], today=TODAY) == later_this_year


def test_ten_digits_of_someone_born_today_belong_to_this_century() -> None:
    born_today = _pnr("20250601")
    assert normalize_personnummer(born_today[2:], today=TODAY) == born_today


def test_someone_turning_one_hundred_today_is_written_with_plus() -> None:
    hundred_today = _pnr("19250601")
    ten = hundred_today[2:8] + "+" + hundred_today[8:]
    assert normalize_personnummer(ten, today=TODAY) == hundred_today


def test_surrounding_whitespace_and_spaces_inside_are_ignored() -> None:
    assert normalize_personnummer("  18900101 9802\n", today=TODAY) == TEST_1890
    assert normalize_personnummer("\t170101 - 2393 ", today=TODAY) == TEST_2017


def test_samordningsnummer_with_day_plus_sixty_is_accepted_and_kept_as_written() -> None:
    samordning = _pnr("19900161")  # born 1 January 1990
    assert normalize_personnummer(samordning, today=TODAY) == samordning
    ten = samordning[2:8] + "-" + samordning[8:]
    assert normalize_personnummer(ten, today=TODAY) == samordning


def test_samordningsnummer_on_the_last_day_of_a_month_is_accepted() -> None:
    samordning = _pnr("19900191")  # 31 January + 60
    assert normalize_personnummer(samordning, today=TODAY) == samordning


def test_leap_day_in_a_leap_year_is_accepted() -> None:
    leap_day = _pnr("20000229")
    assert normalize_personnummer(leap_day, today=TODAY) == leap_day
    assert normalize_personnummer(leap_day[2:], today=TODAY) == leap_day


def test_samordningsnummer_on_a_leap_day_is_accepted() -> None:
    samordning = _pnr("20000289")
    assert normalize_personnummer(samordning, today=TODAY) == samordning


# --- personnummer: refusals ----------------------------------------------------------------


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "   ",
        "abc",
        "Anna Andersson",
        "12345",
        "18900101",
        "18900101-",
        "89001019802",  # 11 digits
        "1890010198021",  # 13 digits
        "18900101--9802",
        "18900101*9802",
        "18900101/9802",
        "1890-01-01-9802",
        "890101-98O2",  # letter O for a zero
        "+900101-9802",
        "900101-9802-",
        "19900101-98 02x",
    ],
)
def test_text_that_is_not_10_or_12_digits_is_refused_with_the_expected_shape(
    garbage: str,
) -> None:
    assert _refusal(garbage).message == NOT_TEN_OR_TWELVE


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        (_pnr("19901301"), "901301"),  # month 13
        (_pnr("19900001"), "900001"),  # month 0
        (_pnr("19900100"), "900100"),  # day 0
        (_pnr("19900230"), "900230"),  # 30 February
        (_pnr("19900431"), "900431"),  # 31 April
        (_pnr("19000229"), "000229"),  # 1900 was not a leap year
        (_pnr("20230229"), "230229"),
        (_pnr("19900160"), "900160"),  # samordningsnummer day 0
        (_pnr("19900192"), "900192"),  # samordningsnummer day 32
        (_pnr("19900289"), "900289"),  # samordningsnummer on 29 Feb of a common year
        (_pnr("19900199"), "900199"),
    ],
)
def test_impossible_date_of_birth_is_refused_naming_the_date(written: str, shown: str) -> None:
    assert _refusal(written).message == f"{shown} is not a date of birth"


def test_impossible_date_in_ten_digit_form_is_refused() -> None:
    assert _refusal(_pnr("19900230")[2:]).message == "900230 is not a date of birth"


def test_leap_day_written_with_plus_for_1900_is_refused() -> None:
    # "000229+" means 29 February 1900, which did not exist.
    ten = _pnr("20000229")
    assert _refusal(ten[2:8] + "+" + ten[8:]).message == "000229 is not a date of birth"


def test_date_of_birth_in_the_future_is_refused() -> None:
    assert _refusal(_pnr("20300101")).message == IN_THE_FUTURE


def test_date_of_birth_tomorrow_is_refused_and_today_is_accepted() -> None:
    assert _refusal(_pnr("20250602")).message == IN_THE_FUTURE
    assert normalize_personnummer(_pnr("20250601"), today=TODAY) == _pnr("20250601")


def test_samordningsnummer_in_the_future_is_refused() -> None:
    assert _refusal(_pnr("20250662")).message == IN_THE_FUTURE  # 2 June 2025


@pytest.mark.parametrize(
    "written", ["189001019803", "18900101-9801", "900101+9800", "1701012394", "170101-2390"]
)
def test_wrong_check_digit_is_refused_as_a_typo(written: str) -> None:
    assert _refusal(written).message == WRONG_CHECK_DIGIT


def test_samordningsnummer_check_digit_is_computed_over_the_day_plus_sixty() -> None:
    # The check digit a birth date of 1 January would give is wrong for day 61.
    birth = _pnr("19900101")
    written = "19900161" + birth[8:]
    assert written != _pnr("19900161")
    assert _refusal(written).message == WRONG_CHECK_DIGIT


@pytest.mark.parametrize(
    "written",
    [
        "１８９００１０１９８０２",  # fullwidth
        "١٨٩٠٠١٠١٩٨٠٢",  # Arabic-Indic
    ],
)
def test_digits_of_other_scripts_are_never_stored_as_they_were_written(written: str) -> None:
    try:
        stored = normalize_personnummer(written, today=TODAY)
    except Invalid as refused:
        assert refused.code == "invalid_personnummer"
    else:
        assert stored == TEST_1890


def test_leap_day_in_ten_digit_form_falls_back_to_the_previous_century_in_2100() -> None:
    leap_day = _pnr("20000229")
    ten = leap_day[2:8] + "-" + leap_day[8:]
    assert normalize_personnummer(ten, today=date(2100, 1, 15)) == leap_day


# --- personnummer: properties --------------------------------------------------------------

birth_dates = st.dates(min_value=date(1890, 1, 1), max_value=TODAY)
serials = st.integers(min_value=980, max_value=989).map(str)


@given(birth=birth_dates, serial=serials, samordning=st.booleans())
def test_twelve_and_ten_digit_forms_of_the_same_number_are_stored_alike(
    birth: date, serial: str, samordning: bool
) -> None:
    day = birth.day + (60 if samordning else 0)
    twelve = _pnr(f"{birth.year:04d}{birth.month:02d}{day:02d}", serial)
    age_100_or_more = add_months(birth, 1200) <= TODAY
    ten = twelve[2:8] + ("+" if age_100_or_more else "-") + twelve[8:]

    assert normalize_personnummer(twelve, today=TODAY) == twelve
    assert normalize_personnummer(format_personnummer(twelve), today=TODAY) == twelve
    assert normalize_personnummer(ten, today=TODAY) == twelve


@given(
    birth=birth_dates,
    serial=serials,
    position=st.integers(min_value=2, max_value=11),
    shift=st.integers(min_value=1, max_value=9),
)
def test_any_single_mistyped_digit_after_the_century_is_refused(
    birth: date, serial: str, position: int, shift: int
) -> None:
    good = _pnr(birth.strftime("%Y%m%d"), serial)
    typo = good[:position] + str((int(good[position]) + shift) % 10) + good[position + 1 :]
    _refusal(typo)


@given(st.text(alphabet="0123456789+- x\t", max_size=16))
def test_any_text_is_either_stored_as_twelve_ascii_digits_or_refused_as_invalid(
    text: str,
) -> None:
    try:
        stored = normalize_personnummer(text, today=TODAY)
    except Invalid as refused:
        assert refused.code == "invalid_personnummer"
        assert refused.message
    else:
        assert len(stored) == 12
        assert stored.isascii()
        assert stored.isdigit()
        assert stored[2:11] + _check_digit(stored[2:11]) == stored[2:]


# --- luhn, format, search ------------------------------------------------------------------


@pytest.mark.parametrize(("nine", "check"), [("900101980", 2), ("170101239", 3)])
def test_luhn_check_digit_matches_skatteverkets_test_numbers(nine: str, check: int) -> None:
    assert luhn_check_digit(nine) == check


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_luhn_check_digit_agrees_with_an_independent_implementation(nine: str) -> None:
    assert str(luhn_check_digit(nine)) == _check_digit(nine)


def test_format_personnummer_writes_it_the_way_it_is_written_on_paper() -> None:
    assert format_personnummer(TEST_1890) == "18900101-9802"
    assert format_personnummer(TEST_2017) == "20170101-2393"


@pytest.mark.parametrize(
    "query",
    [
        "189001019802",
        "18900101-9802",
        "900101+9802",
        "1701012393",
        " 170101-2393 ",
        "18900101 9802",
        "189001019803",  # the shape is enough; the check digit is checked later
    ],
)
def test_search_text_shaped_like_a_personnummer_is_recognized(query: str) -> None:
    assert looks_like_personnummer(query) is True


@pytest.mark.parametrize(
    "query",
    ["", "Andersson", "Anna 1890", "K-10023", "10023", "18900101", "1890010198021", "a@b.se"],
)
def test_search_text_not_shaped_like_a_personnummer_is_not_recognized(query: str) -> None:
    assert looks_like_personnummer(query) is False


# --- order transitions ---------------------------------------------------------------------

DECISION = date(2025, 3, 10)
START = date(2025, 4, 1)
NOT_UNCONFIRMED = ["confirmed", "ongoing", "ended", "withdrawn"]
WHY = "Kunden tackade nej"


def test_unconfirmed_order_can_be_confirmed_from_the_decision_date_on() -> None:
    check_confirm(status="unconfirmed", decision_date=DECISION, start_date=DECISION, today=TODAY)
    check_confirm(
        status=OrderStatus.unconfirmed, decision_date=DECISION, start_date=START, today=TODAY
    )


def test_order_can_be_confirmed_with_a_start_date_up_to_a_year_ahead() -> None:
    check_confirm(
        status="unconfirmed", decision_date=DECISION, start_date=date(2026, 6, 1), today=TODAY
    )


def test_confirming_with_a_start_before_the_decision_is_invalid_and_names_both_dates() -> None:
    with pytest.raises(Invalid) as caught:
        check_confirm(
            status="unconfirmed", decision_date=DECISION, start_date=date(2025, 3, 9), today=TODAY
        )
    assert caught.value.status == 422
    assert caught.value.code == "start_before_decision"
    assert caught.value.message == (
        "the start date 2025-03-09 is before the decision date 2025-03-10"
    )


def test_second_confirm_is_a_conflict_that_names_the_current_state() -> None:
    with pytest.raises(Conflict) as caught:
        check_confirm(status="confirmed", decision_date=DECISION, start_date=START, today=TODAY)
    assert caught.value.status == 409
    assert caught.value.code == "order_confirmed"
    assert caught.value.message == "cannot confirm an order that is confirmed"


def test_confirm_after_withdrawal_is_a_conflict_that_names_the_current_state() -> None:
    with pytest.raises(Conflict) as caught:
        check_confirm(status="withdrawn", decision_date=DECISION, start_date=START, today=TODAY)
    assert caught.value.code == "order_withdrawn"
    assert caught.value.message == "cannot confirm an order that is withdrawn"


@pytest.mark.parametrize("status", NOT_UNCONFIRMED)
def test_confirm_of_an_order_that_is_not_unconfirmed_is_a_conflict(status: str) -> None:
    with pytest.raises(Conflict) as caught:
        check_confirm(
            status=OrderStatus(status), decision_date=DECISION, start_date=START, today=TODAY
        )
    assert caught.value.status == 409
    assert caught.value.code == f"order_{status}"
    assert caught.value.message == f"cannot confirm an order that is {status}"


def test_wrong_state_is_reported_before_a_wrong_start_date() -> None:
    with pytest.raises(Conflict):
        check_confirm(
            status="confirmed", decision_date=DECISION, start_date=date(2025, 1, 1), today=TODAY
        )


def test_unconfirmed_order_can_be_withdrawn() -> None:
    check_withdraw(status="unconfirmed", reason=WHY)
    check_withdraw(status=OrderStatus.unconfirmed, reason=WHY)


@pytest.mark.parametrize("status", NOT_UNCONFIRMED)
def test_withdrawing_an_order_that_is_not_unconfirmed_is_a_conflict_naming_the_state(
    status: str,
) -> None:
    with pytest.raises(Conflict) as caught:
        check_withdraw(status=status, reason=WHY)
    assert caught.value.status == 409
    assert caught.value.code == f"order_{status}"
    assert caught.value.message == f"cannot withdraw an order that is {status}"


@pytest.mark.parametrize("status", ["confirmed", "ongoing"])
def test_confirmed_or_ongoing_execution_can_be_ended_on_or_after_its_start(status: str) -> None:
    check_end(
        status=status, start_date=START, end_date=START, sure=True, reason="moved_home", today=TODAY
    )
    check_end(
        status=status,
        start_date=START,
        end_date=date(2025, 12, 31),
        sure=True,
        reason="moved_home",
        today=TODAY,
    )


def test_ending_before_the_start_date_is_invalid_and_names_both_dates() -> None:
    with pytest.raises(Invalid) as caught:
        check_end(
            status="ongoing",
            start_date=START,
            end_date=date(2025, 3, 31),
            sure=True,
            reason="moved_home",
            today=TODAY,
        )
    assert caught.value.status == 422
    assert caught.value.code == "end_before_start"
    assert caught.value.message == "the end date 2025-03-31 is before the start date 2025-04-01"


def test_ending_without_ticking_sure_is_invalid() -> None:
    with pytest.raises(Invalid) as caught:
        check_end(
            status="ongoing",
            start_date=START,
            end_date=date(2025, 5, 1),
            sure=False,
            reason="moved_home",
            today=TODAY,
        )
    assert caught.value.status == 422
    assert caught.value.code == "end_not_confirmed"
    assert caught.value.message == (
        "tick that you are sure you want to end the execution (confirmed: true)"
    )


@pytest.mark.parametrize("status", ["unconfirmed", "ended", "withdrawn"])
def test_ending_an_execution_that_is_not_running_is_a_conflict_naming_the_state(
    status: str,
) -> None:
    with pytest.raises(Conflict) as caught:
        check_end(
            status=status,
            start_date=START,
            end_date=date(2025, 5, 1),
            sure=True,
            reason="moved_home",
            today=TODAY,
        )
    assert caught.value.status == 409
    assert caught.value.code == f"execution_{status}"
    assert caught.value.message == f"cannot end an execution that is {status}"


def test_ending_twice_is_a_conflict_even_when_not_sure() -> None:
    with pytest.raises(Conflict) as caught:
        check_end(
            status="ended",
            start_date=START,
            end_date=START,
            sure=False,
            reason="moved_home",
            today=TODAY,
        )
    assert caught.value.code == "execution_ended"


def test_new_order_without_or_with_a_planned_start_on_or_after_the_decision_is_accepted() -> None:
    check_new_order(decision_date=DECISION, planned_start_date=None, today=TODAY)
    check_new_order(decision_date=DECISION, planned_start_date=DECISION, today=TODAY)
    check_new_order(decision_date=DECISION, planned_start_date=START, today=TODAY)


def test_new_order_planned_to_start_before_the_decision_is_invalid() -> None:
    with pytest.raises(Invalid) as caught:
        check_new_order(decision_date=DECISION, planned_start_date=date(2025, 3, 9), today=TODAY)
    assert caught.value.status == 422
    assert caught.value.code == "start_before_decision"
    assert caught.value.message == "the planned start date is before the decision date"


def test_list_filter_confirmed_includes_ongoing_orders() -> None:
    assert set(STATUS_FILTER["confirmed"]) == {OrderStatus.confirmed, OrderStatus.ongoing}
    assert STATUS_FILTER["unconfirmed"] == (OrderStatus.unconfirmed,)
    assert STATUS_FILTER["ended"] == (OrderStatus.ended,)
    assert STATUS_FILTER["withdrawn"] == (OrderStatus.withdrawn,)


# --- months and IVO ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2025, 1, 15), 0, date(2025, 1, 15)),
        (date(2025, 1, 15), 1, date(2025, 2, 15)),
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2025, 3, 31), 1, date(2025, 4, 30)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2025, 11, 15), 3, date(2026, 2, 15)),
        (date(2025, 12, 31), 1, date(2026, 1, 31)),
        (date(2025, 2, 15), -3, date(2024, 11, 15)),
        (date(2025, 5, 31), -3, date(2025, 2, 28)),
        (date(2024, 5, 31), -3, date(2024, 2, 29)),
        (date(2025, 1, 1), -1, date(2024, 12, 1)),
        (date(2025, 1, 31), -25, date(2022, 12, 31)),
    ],
)
def test_add_months_keeps_the_day_or_falls_back_to_the_months_last_day(
    day: date, months: int, expected: date
) -> None:
    assert add_months(day, months) == expected


@given(
    day=st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)),
    months=st.integers(min_value=-240, max_value=240),
)
def test_add_months_moves_exactly_that_many_calendar_months(day: date, months: int) -> None:
    result = add_months(day, months)
    assert (result.year * 12 + result.month) - (day.year * 12 + day.month) == months
    assert result.day == min(day.day, calendar.monthrange(result.year, result.month)[1])


@pytest.mark.parametrize(
    ("decision", "reportable"),
    [
        (date(2025, 1, 15), date(2025, 4, 15)),
        (date(2024, 11, 30), date(2025, 2, 28)),
        (date(2023, 11, 30), date(2024, 2, 29)),
        (date(2024, 11, 28), date(2025, 2, 28)),
        (date(2024, 12, 1), date(2025, 3, 1)),
        (date(2025, 10, 31), date(2026, 1, 31)),
        (date(2025, 12, 31), date(2026, 3, 31)),
        (date(2025, 3, 31), date(2025, 6, 30)),
    ],
)
def test_decision_becomes_reportable_to_ivo_three_calendar_months_later(
    decision: date, reportable: date
) -> None:
    assert ivo_reportable_since(decision) == reportable


@pytest.mark.parametrize(
    ("today", "cutoff"),
    [
        (date(2025, 4, 15), date(2025, 1, 15)),
        (date(2025, 2, 28), date(2024, 11, 30)),  # 28, 29 and 30 Nov all fall due today
        (date(2025, 2, 27), date(2024, 11, 27)),
        (date(2024, 2, 29), date(2023, 11, 30)),
        (date(2024, 2, 28), date(2023, 11, 28)),
        (date(2025, 3, 1), date(2024, 12, 1)),
        (date(2025, 4, 30), date(2025, 1, 31)),
        (date(2025, 6, 30), date(2025, 3, 31)),
        (date(2026, 1, 31), date(2025, 10, 31)),
    ],
)
def test_unexecuted_cutoff_is_the_last_decision_date_reportable_today(
    today: date, cutoff: date
) -> None:
    assert unexecuted_cutoff(today) == cutoff


@given(
    today=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)),
    days_before=st.integers(min_value=0, max_value=200),
)
def test_an_order_is_in_the_ivo_report_exactly_when_its_decision_is_reportable(
    today: date, days_before: int
) -> None:
    decision = today - timedelta(days=days_before)
    in_report = decision <= unexecuted_cutoff(today)
    assert in_report == (ivo_reportable_since(decision) <= today)


# --- reminders -----------------------------------------------------------------------------


def test_reminders_fall_due_after_3_days_and_then_every_7_days() -> None:
    plan = ReminderPlan(first_after=timedelta(days=3), every=timedelta(days=7))
    created = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)
    due = [plan.due_at(created, sent) for sent in range(3)]
    assert [d - created for d in due] == [
        timedelta(days=3),
        timedelta(days=10),
        timedelta(days=17),
    ]
    assert due[0] == datetime(2025, 3, 6, 9, 30, tzinfo=UTC)


def test_reminder_plan_works_with_second_durations_as_tests_set_them() -> None:
    plan = ReminderPlan(first_after=timedelta(seconds=10), every=timedelta(seconds=5))
    created = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)
    assert plan.due_at(created, 0) == created + timedelta(seconds=10)
    assert plan.due_at(created, 4) == created + timedelta(seconds=30)


# --- Stockholm calendar days ---------------------------------------------------------------


def _hours_between_midnights(day: date) -> float:
    start = start_of_day(day).astimezone(UTC)
    end = start_of_day(day + timedelta(days=1)).astimezone(UTC)
    return (end - start) / timedelta(hours=1)


def test_start_of_day_is_midnight_in_stockholm() -> None:
    midnight = start_of_day(date(2025, 1, 15))
    assert midnight.tzinfo == STOCKHOLM
    assert (midnight.hour, midnight.minute, midnight.second) == (0, 0, 0)
    assert midnight.astimezone(UTC) == datetime(2025, 1, 14, 23, 0, tzinfo=UTC)


def test_start_of_day_in_summer_is_two_hours_ahead_of_utc() -> None:
    assert start_of_day(date(2025, 7, 1)).astimezone(UTC) == datetime(
        2025, 6, 30, 22, 0, tzinfo=UTC
    )


def test_day_clocks_go_forward_has_23_hours_and_day_they_go_back_has_25() -> None:
    assert _hours_between_midnights(date(2025, 3, 30)) == 23
    assert _hours_between_midnights(date(2025, 10, 26)) == 25
    assert _hours_between_midnights(date(2025, 3, 29)) == 24
    assert _hours_between_midnights(date(2025, 10, 27)) == 24


def test_start_of_dst_days_uses_the_offset_in_force_at_midnight() -> None:
    assert start_of_day(date(2025, 3, 30)).utcoffset() == timedelta(hours=1)
    assert start_of_day(date(2025, 10, 26)).utcoffset() == timedelta(hours=2)


@pytest.mark.parametrize(
    ("instant", "stockholm_date"),
    [
        (datetime(2025, 1, 15, 22, 59, tzinfo=UTC), date(2025, 1, 15)),
        (datetime(2025, 1, 15, 23, 0, tzinfo=UTC), date(2025, 1, 16)),
        (datetime(2025, 3, 29, 23, 30, tzinfo=UTC), date(2025, 3, 30)),
        (datetime(2025, 3, 30, 21, 59, tzinfo=UTC), date(2025, 3, 30)),
        (datetime(2025, 3, 30, 22, 0, tzinfo=UTC), date(2025, 3, 31)),
        (datetime(2025, 6, 30, 21, 59, tzinfo=UTC), date(2025, 6, 30)),
        (datetime(2025, 6, 30, 22, 0, tzinfo=UTC), date(2025, 7, 1)),
        (datetime(2025, 10, 25, 22, 30, tzinfo=UTC), date(2025, 10, 26)),
        (datetime(2025, 10, 26, 22, 59, tzinfo=UTC), date(2025, 10, 26)),
        (datetime(2025, 10, 26, 23, 0, tzinfo=UTC), date(2025, 10, 27)),
        (datetime(2025, 12, 31, 23, 0, tzinfo=UTC), date(2026, 1, 1)),
    ],
)
def test_today_in_stockholm_is_the_calendar_date_in_stockholm(
    instant: datetime, stockholm_date: date
) -> None:
    assert today_in_stockholm(instant) == stockholm_date


def test_today_in_stockholm_converts_from_any_time_zone() -> None:
    new_york_evening = datetime(2025, 6, 30, 19, 0, tzinfo=ZoneInfo("America/New_York"))
    assert today_in_stockholm(new_york_evening) == date(2025, 7, 1)


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)))
def test_start_of_day_is_on_the_same_stockholm_date(day: date) -> None:
    assert today_in_stockholm(start_of_day(day)) == day
    assert today_in_stockholm(start_of_day(day) - timedelta(microseconds=1)) == day - timedelta(
        days=1
    )


def test_a_moment_past_the_calendars_end_is_its_last_moment() -> None:
    end = datetime.max.replace(tzinfo=STOCKHOLM)
    assert later(start_of_day(date(9999, 12, 31)), timedelta(days=90)) == end
    assert later(start_of_day(date(2026, 1, 1)), timedelta(days=1)) == start_of_day(
        date(2026, 1, 2)
    )
