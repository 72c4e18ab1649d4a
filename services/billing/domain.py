"""The fee rules of DESIGN.md as pure functions: periods, days charged, month fees, money.

Everything here is exact: money is integer öre, the day rate a fraction (monthly / 30), and a
month's fee is rounded once, half up, to whole öre. The set-based SQL of the billing run
computes the same numbers; the integration tests hold the two against each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from fractions import Fraction

from services.common.errors import Invalid

# the month a run bills is part of the run's interface (workflows/billing_models.py)
from workflows.billing_models import Period as Period
from workflows.billing_models import period_to_bill as period_to_bill

DAYS_PER_MONTH = 30  # the divisor of the day rate, as Swedish municipalities publish it
LONG_ABSENCE_DAYS = 30  # an absence longer than this holds the invoices of the months it touches
DEFAULT_CARE_ABSENCE_REASONS = ("hospital",)
# the reasons the absence service takes (DESIGN.md)
REASONS = ("hospital", "short_term_care", "relatives", "vacation", "other")


class FeeKind(StrEnum):
    food = "food"
    care = "care"


class TariffKind(StrEnum):
    food = "food"
    care_max = "care_max"


class HoldReason(StrEnum):
    no_fee_decision = "no_fee_decision"
    long_absence = "long_absence"


# --- periods -------------------------------------------------------------------------------


def check_billable(period: Period, today: date) -> None:
    """Only a month that has ended can be billed."""
    if period >= Period.of(today):
        raise Invalid(
            f"{period} has not ended yet; fees are billed in arrears, the latest period "
            f"to bill today is {period_to_bill(today)}",
            code="period_not_ended",
        )


def correction_window_start(period: Period, months: int) -> Period:
    """The oldest month a run for `period` corrects: `months` before it (`period` itself
    when 0). An older month whose fees changed is reported, never corrected."""
    index = period.year * 12 + period.month - 1 - months
    return Period(index // 12, index % 12 + 1)


def corrects(period: Period, month: Period, *, months: int) -> bool:
    """Whether a run for `period` may correct the earlier `month`."""
    return correction_window_start(period, months) <= month < period


# --- days ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """Whole days from `first` to `last`, both included; `last` None means still open."""

    first: date
    last: date | None = None

    def days_in(self, period: Period) -> set[date]:
        """The days of `period` this span covers (an open span runs to the month's end)."""
        first = max(self.first, period.first_day)
        last = min(self.last or period.last_day, period.last_day)
        return {first + timedelta(days=n) for n in range((last - first).days + 1)}


@dataclass(frozen=True)
class Absence:
    """Whole days absent, with the reason the provider gave."""

    reason: str
    first: date
    last: date | None = None

    @property
    def span(self) -> Span:
        return Span(self.first, self.last)

    def length(self, as_of: date) -> int:
        """Whole days absent, counting an open absence up to `as_of`."""
        return ((self.last or as_of) - self.first).days + 1


def charged_days(period: Period, stays: Iterable[Span], absences: Iterable[Span]) -> int:
    """Days of the month inside a stay of the customer and outside every absence given."""
    staying: set[date] = set()
    for stay in stays:
        staying |= stay.days_in(period)
    for absence in absences:
        staying -= absence.days_in(period)
    return len(staying)


# --- money ---------------------------------------------------------------------------------


def day_rate(monthly: int) -> Fraction:
    """The day rate in öre: the monthly amount / 30, exactly."""
    return Fraction(monthly, DAYS_PER_MONTH)


def round_half_up(amount: Fraction) -> int:
    """Whole öre, halves rounded up (amounts here are never negative)."""
    return int((amount + Fraction(1, 2)).__floor__())


def month_fee(monthly: int, days_not_charged: int) -> int:
    """The monthly amount less a day rate per day not charged, never below 0, in whole öre."""
    if monthly < 0 or days_not_charged < 0:
        raise ValueError("a monthly amount and a number of days are never negative")
    return round_half_up(max(Fraction(0), monthly - day_rate(monthly) * days_not_charged))


def format_ore(amount: int) -> str:
    """Öre as the API writes kronor: `"3333.33"`, `"-133.33"`."""
    sign = "-" if amount < 0 else ""
    kronor, ore = divmod(abs(amount), 100)
    return f"{sign}{kronor}.{ore:02d}"


def parse_kronor(value: str | int | float | Decimal, *, field: str = "amount") -> int:
    """Kronor with at most two decimals (`"2660.00"`, `2660`) as öre; 422 otherwise."""
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        amount = Decimal("NaN")
    if amount.is_finite() and amount >= 10_000_000:
        raise Invalid(f"{field} {value} is not a plausible monthly amount", code="bad_amount")
    if not amount.is_finite() or amount < 0 or amount != round(amount, 2):
        raise Invalid(
            f'{field} is an amount in kronor with at most two decimals, e.g. "2660.00"; '
            f"not {value!r}",
            code="bad_amount",
        )
    return int(amount * 100)


# --- a month's fees ------------------------------------------------------------------------


@dataclass(frozen=True)
class Fee:
    """One fee of one month: how many days were charged and what they cost."""

    kind: FeeKind
    period: Period
    monthly: int
    days: int
    amount: int

    @property
    def days_not_charged(self) -> int:
        return self.period.days - self.days


def month_fees(
    period: Period,
    *,
    stays: Sequence[Span],
    absences: Sequence[Absence],
    food_monthly: int,
    care_monthly: int | None,
    care_max: int,
    care_reasons: Iterable[str] = DEFAULT_CARE_ABSENCE_REASONS,
) -> list[Fee]:
    """The food fee and, with a fee decision, the care fee of one customer for one month.

    Food does not charge any whole day of absence; care only days absent for a reason in
    `care_reasons`. The care fee is at most the maxtaxa of the month. A month without a
    single day of stay is not billed at all: its fees are 0 (the formula alone would
    charge two day rates for a February nobody lived in).
    """
    reasons = set(care_reasons)
    stayed = charged_days(period, stays, []) > 0

    def fee(kind: FeeKind, monthly: int, spared: Iterable[Absence]) -> Fee:
        days = charged_days(period, stays, [a.span for a in spared])
        amount = month_fee(monthly, period.days - days) if stayed else 0
        return Fee(kind, period, monthly, days, amount)

    fees = [fee(FeeKind.food, food_monthly, absences)]
    if care_monthly is not None:
        care = [a for a in absences if a.reason in reasons]
        fees.append(fee(FeeKind.care, min(care_monthly, care_max), care))
    return fees


def correction(*, due: int, billed: int) -> int:
    """What a month's line must add so that the sum billed equals what the rules give now."""
    return due - billed


def hold_reasons(
    period: Period, *, has_fee_decision: bool, absences: Iterable[Absence]
) -> list[HoldReason]:
    """Why the invoice of `period` waits for a fee administrator; empty when it can go out."""
    reasons = []
    if not has_fee_decision:
        reasons.append(HoldReason.no_fee_decision)
    if any(touches_long_absence(period, absence) for absence in absences):
        reasons.append(HoldReason.long_absence)
    return reasons


def touches_long_absence(period: Period, absence: Absence) -> bool:
    """An absence of more than 30 days (open ones counted to the month's end) in the month."""
    overlaps = absence.first <= period.last_day and (absence.last or date.max) >= period.first_day
    return overlaps and absence.length(as_of=period.last_day) > LONG_ABSENCE_DAYS


# --- tariffs and fee decisions ---------------------------------------------------------------


def check_tariff_start(valid_from: date) -> None:
    """Tariffs change on the first of a month, so every month has exactly one."""
    if valid_from.day != 1:
        raise Invalid(
            f"a tariff is valid from the first of a month, not {valid_from}",
            code="tariff_not_first_of_month",
        )


def check_fee_decision(
    *,
    care_monthly: int,
    valid_from: date,
    valid_to: date | None,
    care_max_by_start: dict[date, int],
) -> None:
    """A fee decision runs forward in time and never exceeds the maxtaxa of a month it covers.

    `care_max_by_start` maps each maxtaxa's first day to its monthly amount.
    """
    if valid_to is not None and valid_to < valid_from:
        raise Invalid(
            f"valid_to {valid_to} is before valid_from {valid_from}", code="decision_backwards"
        )
    in_force = tariff_in_force(care_max_by_start, valid_from)
    if in_force is None:
        raise Invalid(
            f"there is no maxtaxa for {Period.of(valid_from)}; set the care_max tariff first",
            code="no_maxtaxa",
        )
    covered = [
        amount
        for start, amount in care_max_by_start.items()
        if start > valid_from and (valid_to is None or start <= valid_to)
    ]
    limit = min([in_force, *covered])
    if care_monthly > limit:
        raise Invalid(
            f"the care fee {format_ore(care_monthly)} is above the maxtaxa "
            f"{format_ore(limit)} of a month it covers",
            code="above_maxtaxa",
        )


def tariff_in_force(by_start: dict[date, int], day: date) -> int | None:
    """The amount of the tariff with the latest start on or before `day`."""
    starts = [start for start in by_start if start <= day]
    return by_start[max(starts)] if starts else None


@dataclass(frozen=True)
class FeeDecision:
    """A customer's care fee per month, from `valid_from` to `valid_to` (or until further)."""

    care_monthly: int
    valid_from: date
    valid_to: date | None = None


def decision_for(period: Period, decisions: Iterable[FeeDecision]) -> FeeDecision | None:
    """The decision that sets a month's care fee: of those in force on some day of the
    month, the one that starts last."""
    candidates = [
        d
        for d in decisions
        if d.valid_from <= period.last_day
        and (d.valid_to is None or d.valid_to >= period.first_day)
    ]
    return max(candidates, key=lambda d: d.valid_from, default=None)


# --- how an invoice reads ----------------------------------------------------------------------


def invoice_number(year: int, seq: int) -> str:
    """`2026-000042`: the year's series and the invoice's place in it."""
    return f"{year}-{seq:06d}"


def line_kind(fee: str, *, correction: bool) -> str:
    """`food`, `care`, or `food_correction`/`care_correction` for an earlier month."""
    return f"{fee}_correction" if correction else fee


def check_tariffs(period: Period, *, food: int | None, care_max: int | None) -> None:
    """A month is billed only when its food tariff and its maxtaxa are known."""
    missing = [kind for kind, amount in (("food", food), ("care_max", care_max)) if amount is None]
    if missing:
        raise Invalid(
            f"there is no {' and no '.join(missing)} tariff for {period}; set it with PUT /tariffs",
            code="no_tariff",
        )
