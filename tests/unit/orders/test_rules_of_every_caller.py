"""The lifecycle's rules as both the API and the workflow's validators apply them: who may
take a step, a known end reason, a true tick, a withdrawal's reason, and dates within
reason (workflows/order_rules.py, re-exported by services/orders/domain.py)."""

from __future__ import annotations

from datetime import date

import pytest

from services.common.errors import Forbidden, Invalid
from services.orders.domain import (
    DateBounds,
    check_actor,
    check_confirm,
    check_decision_date,
    check_end,
    check_new_order,
    check_withdraw,
)

TODAY = date(2026, 12, 2)
START = date(2026, 11, 1)


@pytest.mark.parametrize("step", ["confirm", "end"])
def test_a_provider_of_the_orders_unit_may_confirm_and_end(step: str) -> None:
    check_actor(step=step, sub="anna", role="provider", unit="solbacken", order_unit="solbacken")


def test_a_caseworker_may_withdraw() -> None:
    check_actor(step="withdraw", sub="cecilia", role="caseworker", unit=None, order_unit="x")


@pytest.mark.parametrize(
    ("step", "role"),
    [
        ("confirm", "caseworker"),
        ("end", "admin"),
        ("end", "fee_admin"),
        ("withdraw", "provider"),
        ("withdraw", "coordinator"),
        ("end", "root"),
    ],
)
def test_any_other_role_is_forbidden_and_named(step: str, role: str) -> None:
    with pytest.raises(Forbidden) as caught:
        check_actor(step=step, sub="mallory", role=role, unit="solbacken", order_unit="solbacken")
    assert caught.value.status == 403
    assert caught.value.code == "actor_role_not_allowed"
    assert caught.value.message.startswith(
        f"only a {'caseworker' if step == 'withdraw' else 'provider'} may {step} an order"
    )
    assert repr(role) in caught.value.message


@pytest.mark.parametrize("unit", ["ekbacken", None, ""])
def test_a_provider_of_another_unit_is_forbidden_and_both_units_named(unit: str | None) -> None:
    with pytest.raises(Forbidden) as caught:
        check_actor(step="end", sub="anna", role="provider", unit=unit, order_unit="solbacken")
    assert caught.value.code == "actor_unit_not_allowed"
    assert "solbacken" in caught.value.message and repr(unit) in caught.value.message


def test_an_actor_without_a_name_is_refused() -> None:
    with pytest.raises(Invalid) as caught:
        check_actor(step="end", sub="  ", role="provider", unit="u", order_unit="u")
    assert caught.value.code == "actor_unnamed"


def test_a_long_invented_value_is_quoted_short() -> None:
    with pytest.raises(Forbidden) as caught:
        check_actor(step="end", sub="m", role="x" * 10_000, unit="u", order_unit="u")
    assert len(caught.value.message) < 200


def _end(**changes: object) -> None:
    facts: dict = {
        "status": "ongoing",
        "start_date": START,
        "end_date": TODAY,
        "reason": "moved_home",
        "sure": True,
        "today": TODAY,
    }
    check_end(**(facts | changes))


@pytest.mark.parametrize("reason", ["deceased", "moved_other_housing", "moved_home", "other"])
def test_each_known_end_reason_is_accepted(reason: str) -> None:
    _end(reason=reason)


@pytest.mark.parametrize("reason", ["not-a-valid-reason", "", "Deceased", " deceased"])
def test_an_unknown_end_reason_is_refused_and_the_known_ones_listed(reason: str) -> None:
    with pytest.raises(Invalid) as caught:
        _end(reason=reason)
    assert caught.value.status == 422
    assert caught.value.code == "unknown_end_reason"
    assert "deceased, moved_other_housing, moved_home, other" in caught.value.message


@pytest.mark.parametrize("sure", [False, None, "yes", 1, "true"])
def test_only_a_true_tick_ends_a_stay(sure: object) -> None:
    with pytest.raises(Invalid) as caught:
        _end(sure=sure)
    assert caught.value.code == "end_not_confirmed"


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        ("", "withdraw_reason_missing"),
        ("   ", "withdraw_reason_missing"),
        ("x" * 2_001, "withdraw_reason_too_long"),
        ("Kunden\x00tackade nej", "withdraw_reason_unclean"),
        ("Kunden \u202etackade nej", "withdraw_reason_unclean"),
    ],
)
def test_a_withdrawal_needs_a_clean_reason(reason: str, code: str) -> None:
    with pytest.raises(Invalid) as caught:
        check_withdraw(status="unconfirmed", reason=reason)
    assert caught.value.code == code


# --- dates within reason -------------------------------------------------------------------


def test_a_decision_today_or_up_to_two_years_back_is_accepted() -> None:
    check_decision_date(decision_date=TODAY, today=TODAY, bounds=DateBounds())
    check_decision_date(decision_date=date(2024, 12, 2), today=TODAY, bounds=DateBounds())


def test_a_decision_in_the_future_is_refused_naming_today() -> None:
    with pytest.raises(Invalid) as caught:
        check_new_order(decision_date=date(2026, 12, 3), planned_start_date=None, today=TODAY)
    assert caught.value.status == 422
    assert caught.value.code == "decision_date_in_future"
    assert (
        caught.value.message
        == "the decision date 2026-12-03 is in the future (today is 2026-12-02)"
    )


@pytest.mark.parametrize("decided", [date(1, 1, 1), date(2024, 12, 1)])
def test_a_decision_more_than_the_bound_back_is_refused_naming_the_earliest(decided: date) -> None:
    with pytest.raises(Invalid) as caught:
        check_new_order(decision_date=decided, planned_start_date=None, today=TODAY)
    assert caught.value.code == "decision_date_too_old"
    assert "more than 2 year(s) back (the earliest is 2024-12-02)" in caught.value.message


def test_the_bounds_are_settings() -> None:
    bounds = DateBounds(decision_years_back=5, years_ahead=3)
    check_new_order(
        decision_date=date(2021, 12, 2),
        planned_start_date=date(2029, 12, 2),
        today=TODAY,
        bounds=bounds,
    )
    with pytest.raises(Invalid) as caught:
        check_new_order(
            decision_date=TODAY, planned_start_date=date(2029, 12, 3), today=TODAY, bounds=bounds
        )
    assert caught.value.code == "planned_start_date_too_far_ahead"
    assert "more than 3 year(s) ahead (the latest is 2029-12-02)" in caught.value.message


def test_a_start_date_more_than_a_year_ahead_is_refused_naming_the_latest() -> None:
    check_confirm(
        status="unconfirmed", decision_date=TODAY, start_date=date(2027, 12, 2), today=TODAY
    )
    with pytest.raises(Invalid) as caught:
        check_confirm(
            status="unconfirmed", decision_date=TODAY, start_date=date(2027, 12, 3), today=TODAY
        )
    assert caught.value.code == "start_date_too_far_ahead"
    assert caught.value.message == (
        "the start date 2027-12-03 is more than 1 year(s) ahead (the latest is 2027-12-02)"
    )


def test_an_end_date_more_than_a_year_ahead_is_refused() -> None:
    with pytest.raises(Invalid) as caught:
        _end(end_date=date(9999, 12, 31))
    assert caught.value.code == "end_date_too_far_ahead"


def test_a_leap_day_bound_falls_on_the_28th() -> None:
    with pytest.raises(Invalid) as caught:
        check_decision_date(
            decision_date=date(2027, 2, 27), today=date(2028, 2, 29), bounds=DateBounds(1)
        )
    assert "the earliest is 2027-02-28" in caught.value.message


def test_bounds_at_the_calendars_edge_do_not_overflow() -> None:
    check_decision_date(decision_date=date(1, 1, 1), today=date(1, 1, 1), bounds=DateBounds())
    check_confirm(
        status="unconfirmed",
        decision_date=date(9999, 12, 1),
        start_date=date(9999, 12, 31),
        today=date(9999, 12, 1),
    )
