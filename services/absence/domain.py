"""The rules of absence (frånvaro): pure functions, no I/O.

Periods are inclusive calendar days: `from_date` is the first and `to_date` the last whole
day absent ("hela dagar utan kost"); an absence without `to_date` is open. An absence lies
in a stay (an execution) of the customer; where the stay has ended, an open absence ends
with it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from services.common.dates import counted_through as counted_through
from services.common.dates import day_after_more_than, last_day
from services.common.dates import days_by_month as days_by_month
from services.common.dates import whole_days as whole_days
from services.common.errors import Conflict, Invalid, NotFound

# An absence that lasts more than this many whole days goes to the fee administrators.
ESCALATE_AFTER_DAYS = 30


class Reason(StrEnum):
    hospital = "hospital"
    short_term_care = "short_term_care"
    relatives = "relatives"
    vacation = "vacation"
    other = "other"


# How the fee administrators read a reason (in their notifications).
REASON_LABELS: dict[str, str] = {
    Reason.hospital: "sjukhusvistelse",
    Reason.short_term_care: "korttidsvistelse",
    Reason.relatives: "hos anhöriga",
    Reason.vacation: "semester",
    Reason.other: "annan orsak",
}


class Change(StrEnum):
    """What last happened to an absence: the fee administrators' indication (manual 5.2,
    5.3) says which."""

    registered = "registered"
    ended = "ended"  # an open absence got its last day
    changed = "changed"  # its last day moved, or it was opened again
    removed = "removed"


@dataclass(frozen=True)
class Stay:
    """A customer's execution at a unit, as the absence service learnt it from events."""

    execution_id: uuid.UUID
    order_id: uuid.UUID
    unit_id: str
    start_date: date
    end_date: date | None = None


@dataclass(frozen=True)
class Absence:
    """An absence of a customer; `stay_end` is the end of the stay it lies in, if ended."""

    id: uuid.UUID
    from_date: date
    to_date: date | None
    stay_end: date | None = None

    @property
    def last_day(self) -> date | None:
        return last_day(self.to_date, self.stay_end)


def check_dates(*, from_date: date, to_date: date | None) -> None:
    """`to_date`, when given, is on or after `from_date`."""
    if to_date is not None and to_date < from_date:
        raise Invalid(
            f"the last day absent {to_date} is before the first {from_date}",
            code="to_before_from",
        )


def check_period(*, first: date | None, last: date | None) -> None:
    """A period asked for (`from`, `to`) does not end before it begins."""
    if first is not None and last is not None and last < first:
        raise Invalid(f"the period ends ({last}) before it begins ({first})", code="bad_period")


def stay_for(stays: Iterable[Stay], *, from_date: date, to_date: date | None) -> Stay:
    """The stay the absence lies in; 422 when it lies in none of them.

    An open absence needs only its first day in the stay: it ends with the stay.
    """
    stays = sorted(stays, key=lambda s: s.start_date)
    for stay in stays:
        if stay.start_date <= from_date and (
            stay.end_date is None
            or (from_date <= stay.end_date and (to_date is None or to_date <= stay.end_date))
        ):
            return stay
    known = ", ".join(f"{s.start_date} – {s.end_date or ''}".strip() for s in stays)
    raise Invalid(
        f"the absence lies outside the customer's stay at your unit ({known})",
        code="outside_stay",
    )


def overlaps(a_from: date, a_last: date | None, b_from: date, b_last: date | None) -> bool:
    """Whether two inclusive periods share a day; a missing last day is open-ended."""
    return (a_last is None or b_from <= a_last) and (b_last is None or a_from <= b_last)


def check_no_overlap(
    *, from_date: date, to_date: date | None, stay: Stay, others: Iterable[Absence]
) -> None:
    """409 when the absence shares a day with another absence of the same customer."""
    mine = last_day(to_date, stay.end_date)
    for other in others:
        if overlaps(from_date, mine, other.from_date, other.last_day):
            until = other.to_date or "open"
            raise Conflict(
                f"the customer is already absent {other.from_date} – {until} "
                f"(absence {other.id}); end or change that one first",
                code="absence_overlaps",
            )


def check_absence(
    *,
    from_date: date,
    to_date: date | None,
    stays: Iterable[Stay],
    others: Iterable[Absence],
) -> Stay:
    """Every rule of a new or changed absence; return the stay it belongs to.

    `others` are the customer's other absences, removed ones left out. Late registration
    is allowed: the dates may lie in the past.
    """
    check_dates(from_date=from_date, to_date=to_date)
    stay = stay_for(stays, from_date=from_date, to_date=to_date)
    check_no_overlap(from_date=from_date, to_date=to_date, stay=stay, others=others)
    return stay


@dataclass(frozen=True)
class AtStayEnd:
    """What a stay's end does to its absences, by id."""

    ended: list[uuid.UUID]  # run past the stay's last day, or open: they end on it
    removed: list[uuid.UUID]  # begin after it: no day of them lies in the stay


def at_stay_end(absences: Iterable[Absence], *, end_date: date) -> AtStayEnd:
    """No absence outlives its stay: none keeps a last day after the stay's, none is left
    with a last day before its first."""
    ended, removed = [], []
    for absence in absences:
        if absence.from_date > end_date:
            removed.append(absence.id)
        elif absence.to_date is None or absence.to_date > end_date:
            ended.append(absence.id)
    return AtStayEnd(ended=ended, removed=removed)


def check_stays_known(stays: Iterable[Stay]) -> None:
    """404 unless the customer has a stay at the caller's unit (another unit's is unknown)."""
    if not list(stays):
        raise NotFound(
            "no stay of this customer at your unit is known; if the order was confirmed just "
            "now, try again in a moment",
            code="customer_not_found",
        )


def escalation_day(*, from_date: date, to_date: date | None, stay_end: date | None) -> date | None:
    """The day at whose start the absence has lasted more than 30 whole days, or None.

    That is `from_date` + 31; an open absence reaches it unless its stay ends before. The
    lifecycle learns the 30 from the absence events (`escalate_after_days`).
    """
    return day_after_more_than(
        ESCALATE_AFTER_DAYS, from_date=from_date, to_date=to_date, stay_end=stay_end
    )


def change_of(*, before: date | None, after: date | None) -> Change:
    """The change of an absence's last day from `before` to `after`."""
    return Change.ended if before is None and after is not None else Change.changed


def check_mark_handled(*, revision: int, handled_revision: int | None, seen: int | None) -> None:
    """409 when the absence's last change is handled already, or when it changed after the
    revision the fee administrator looked at (`seen`, when given)."""
    if seen is not None and seen != revision:
        raise Conflict(
            f"the absence has changed since you looked at it (revision {seen}, now "
            f"{revision}); look at it again before you mark it handled",
            code="absence_changed_since",
        )
    if handled_revision == revision:
        raise Conflict(
            "the absence's last change is already marked handled", code="absence_handled"
        )


def check_unhandled_filters(
    *, current: bool, period_from: date | None, period_to: date | None
) -> None:
    """The list of changes to handle is by customer only: not by day or period (422)."""
    if current or period_from is not None or period_to is not None:
        raise Invalid(
            "unhandled=true lists the changes to handle; it takes customer_id, limit and "
            "offset, not current, from or to",
            code="unhandled_with_filter",
        )


def visible_since(today: date, keep_after_end: timedelta) -> date:
    """A unit keeps seeing the absences of a stay that ended on or after this day."""
    try:
        return today - timedelta(days=keep_after_end.days)
    except OverflowError:
        return date.min
