"""The final count of a long absence (workflows/absence_count.py) and the rules of the fee
administrators' indication (services/absence/domain.py): pure, no I/O."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from services.absence.domain import (
    Change,
    change_of,
    check_mark_handled,
    check_unhandled_filters,
    visible_since,
)
from services.common.errors import Conflict, Invalid
from workflows.absence_count import final_count, final_count_due, held_periods, notice

D = date.fromisoformat


def test_the_count_across_a_month_boundary_has_its_days_in_all_and_per_month():
    count = final_count(from_date=D("2026-10-20"), last_day=D("2026-12-03"), removed=False)
    assert count.whole_days == 45  # 12 in October, 30 in November, 3 in December
    assert count.by_month == [("2026-10", 12), ("2026-11", 30), ("2026-12", 3)]
    assert count.over_limit


def test_a_count_across_a_leap_february():
    count = final_count(from_date=D("2028-01-31"), last_day=D("2028-03-01"), removed=False)
    assert count.by_month == [("2028-01", 1), ("2028-02", 29), ("2028-03", 1)]
    assert count.whole_days == 31


def test_a_removed_absence_counts_no_day():
    count = final_count(from_date=D("2026-10-20"), last_day=D("2026-12-03"), removed=True)
    assert count.removed and count.whole_days == 0 and count.by_month == []
    subject, body = notice(
        count,
        customer_number="100042",
        reason="sjukhusvistelse",
        held=[],
        replaces=False,
        order_id=uuid.uuid4(),
        absence_id=uuid.uuid4(),
    )
    assert subject == "Frånvaro över 30 dagar borttagen, kund 100042"
    assert "från 2026-10-20 är borttagen" in body and "(0 dagar)" in body


def test_an_end_moved_earlier_gives_the_new_figures_and_says_it_replaces():
    count = final_count(from_date=D("2026-10-20"), last_day=D("2026-11-10"), removed=False)
    assert count.whole_days == 22 and count.by_month == [("2026-10", 12), ("2026-11", 10)]
    subject, body = notice(
        count,
        customer_number="100042",
        reason="semester",
        held=["2026-10"],
        replaces=True,
        order_id=uuid.uuid4(),
        absence_id=uuid.uuid4(),
    )
    assert subject == "Ändrad: Frånvaro över 30 dagar avslutad, kund 100042"
    assert body.startswith("Detta besked ersätter det tidigare om frånvaron.")
    assert "Datum för frånvaro: 2026-10-20 – 2026-11-10." in body
    assert "Antal hela dagar utan kost: 22 (per månad 2026-10: 12, 2026-11: 10)." in body
    assert "inte längre än 30 dagar" in body  # no longer over the limit
    assert "Vilande fakturor väntar på granskning för 2026-10" in body


@pytest.mark.parametrize(
    ("facts", "due"),
    [
        # never escalated: nothing to count
        ({"escalated": False, "removed": False, "last_day": D("2026-11-10")}, False),
        ({"escalated": False, "removed": True, "last_day": None}, False),
        # escalated while open, still open: not yet
        ({"escalated": True, "removed": False, "last_day": None}, False),
        # escalated, then ended: due once
        ({"escalated": True, "removed": False, "last_day": D("2026-11-10")}, True),
        (
            {
                "escalated": True,
                "removed": False,
                "last_day": D("2026-11-10"),
                "told_end": D("2026-11-10"),
            },
            False,
        ),
        # a later change of the end: due again
        (
            {
                "escalated": True,
                "removed": False,
                "last_day": D("2026-11-12"),
                "told_end": D("2026-11-10"),
            },
            True,
        ),
        # opened again after a count: nothing until it has a last day
        (
            {"escalated": True, "removed": False, "last_day": None, "told_end": D("2026-11-10")},
            False,
        ),
        # removed: due once, then never again
        ({"escalated": True, "removed": True, "last_day": None}, True),
        ({"escalated": True, "removed": True, "last_day": None, "told_removed": True}, False),
    ],
)
def test_when_a_final_count_is_due(facts: dict, due: bool):
    facts = {"told_end": None, "told_removed": False, **facts}
    assert final_count_due(**facts) is due


def test_held_invoices_are_looked_for_from_the_first_month_through_the_end():
    today = D("2026-12-15")
    assert held_periods(from_date=D("2026-10-20"), last_day=D("2026-11-10"), today=today) == (
        D("2026-10-01"),
        D("2026-11-10"),
    )
    # removed: every month since it began, through today's
    assert held_periods(from_date=D("2026-10-20"), last_day=None, today=today) == (
        D("2026-10-01"),
        today,
    )


def test_what_changed_an_absence():
    assert change_of(before=None, after=D("2026-11-10")) == Change.ended
    assert change_of(before=D("2026-11-10"), after=D("2026-11-12")) == Change.changed
    assert change_of(before=D("2026-11-10"), after=None) == Change.changed  # opened again


def test_marking_handled_is_refused_when_done_or_when_it_changed_since():
    check_mark_handled(revision=3, handled_revision=None, seen=None)
    check_mark_handled(revision=3, handled_revision=2, seen=3)
    with pytest.raises(Conflict) as done:
        check_mark_handled(revision=3, handled_revision=3, seen=None)
    assert done.value.code == "absence_handled"
    with pytest.raises(Conflict) as stale:
        check_mark_handled(revision=3, handled_revision=2, seen=2)
    assert (
        stale.value.code == "absence_changed_since" and "revision 2, now 3" in stale.value.message
    )


def test_the_list_to_handle_takes_no_day_or_period():
    check_unhandled_filters(current=False, period_from=None, period_to=None)
    for facts in (
        {"current": True},
        {"period_from": D("2026-11-01")},
        {"period_to": D("2026-11-30")},
    ):
        with pytest.raises(Invalid):
            check_unhandled_filters(
                **{"current": False, "period_from": None, "period_to": None, **facts}
            )


def test_a_unit_sees_a_stay_that_ended_90_days_ago_not_91():
    today = D("2026-12-02")
    since = visible_since(today, timedelta(days=90))
    assert since == today - timedelta(days=90)
    assert visible_since(D("0001-02-01"), timedelta(days=90)) == date.min
