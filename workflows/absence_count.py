"""The final count of a long absence (manual 5.1; issue 17 point 3): pure rules and the
fee administrators' notice, no I/O.

An absence over 30 days was escalated while it was open, with its days so far. When it gets
its last day, or is removed, the fee administrators get one more notice: the dates, the
whole days without meals in all and per month, and which held invoices wait for it. One
notice per end: a later change of the end sends a new one that says it replaces the
earlier.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from services.common import dates


@dataclass(frozen=True)
class FinalCount:
    """What the fee administrators are told at the end of an escalated absence."""

    from_date: date
    last_day: date | None  # None when the absence was removed
    removed: bool
    whole_days: int  # without meals: 0 for a removed absence, which counts no day
    by_month: list[tuple[str, int]]  # (YYYY-MM, whole days) of each month it touches

    @property
    def over_limit(self) -> bool:
        """Whether it still lasts more than 30 days (the manual's limit)."""
        return self.whole_days > 30


def final_count_due(
    *,
    escalated: bool,
    removed: bool,
    last_day: date | None,
    told_end: date | None,
    told_removed: bool,
) -> bool:
    """Whether the fee administrators are owed a final count: the absence was escalated,
    and it has been removed, or it has a last day they were not told yet. A removal is the
    last word; an absence opened again is owed nothing until it has a last day."""
    if not escalated or told_removed:
        return False
    if removed:
        return True
    return last_day is not None and last_day != told_end


def final_count(*, from_date: date, last_day: date | None, removed: bool) -> FinalCount:
    """The count of an absence that ended on `last_day`, or was removed."""
    if removed or last_day is None:
        return FinalCount(
            from_date=from_date, last_day=last_day, removed=True, whole_days=0, by_month=[]
        )
    return FinalCount(
        from_date=from_date,
        last_day=last_day,
        removed=False,
        whole_days=dates.whole_days(from_date, last_day),
        by_month=dates.days_by_month(from_date, last_day),
    )


def held_periods(*, from_date: date, last_day: date | None, today: date) -> tuple[date, date]:
    """The first and last day of the months whose invoices may be held for the absence:
    from its first month through its last (through today's month for a removed one)."""
    last = last_day if last_day is not None else max(today, from_date)
    return from_date.replace(day=1), last


def notice(
    count: FinalCount,
    *,
    customer_number: str,
    reason: str,
    held: Sequence[str],
    replaces: bool,
    order_id: uuid.UUID,
    absence_id: uuid.UUID,
) -> tuple[str, str]:
    """The subject and body of the final count for `group:avgifter`, in Swedish."""
    if count.removed:
        subject = f"Frånvaro över 30 dagar borttagen, kund {customer_number}"
        facts = (
            f"Frånvaron för kund {customer_number} ({reason}) från {count.from_date} är "
            "borttagen: den ger inga hela dagar utan kost (0 dagar)."
        )
    else:
        subject = f"Frånvaro över 30 dagar avslutad, kund {customer_number}"
        months = ", ".join(f"{month}: {days}" for month, days in count.by_month)
        facts = (
            f"Frånvaron för kund {customer_number} ({reason}) är avslutad. "
            f"Datum för frånvaro: {count.from_date} – {count.last_day}. "
            f"Antal hela dagar utan kost: {count.whole_days} (per månad {months})."
        )
        if not count.over_limit:
            facts += " Frånvaron är nu inte längre än 30 dagar."
    if replaces:
        subject = f"Ändrad: {subject}"
        facts = f"Detta besked ersätter det tidigare om frånvaron. {facts}"
    if held:
        waiting = (
            f"Vilande fakturor väntar på granskning för {', '.join(held)}: "
            "avdraget hanteras manuellt av avgiftshandläggare."
        )
    else:
        waiting = "Inga vilande fakturor väntar för frånvaron."
    body = f"{facts} {waiting} Beställning {order_id}, frånvaro {absence_id}."
    return subject, body
