"""Every Swedish text billing writes: invoice lines, hold notes, the fee administrators'
notice of a held invoice.

Each text is one template. Python fills it with `str.format`; the billing run's set-based
SQL, which writes notes and notices for thousands of invoices in one statement, renders
the same template as a SQL expression with `sql()`, so the wording lives here alone.
"""

from __future__ import annotations

import string

from services.billing.domain import FeeKind, Period, format_ore

# --- invoice lines ---------------------------------------------------------------------------

MONTHS = (
    "januari februari mars april maj juni juli augusti september oktober november december"
).split()
FEE_NAMES = {FeeKind.food: "Kost", FeeKind.care: "Omvårdnad"}
LINE = "{name} {month}, {charged}"
CORRECTION_LINE = (
    "Rättelse {name} {month}: {charged} enligt dagens uppgifter, tidigare fakturerat {billed} kr"
)
CHARGED = "{days} av {month_days} dagar"


def describe_line(
    *, fee: str, correction: bool, period: Period, days: int, billed_before: int
) -> str:
    """A line's text, in Swedish as the customer reads it."""
    name = FEE_NAMES[FeeKind(fee)]
    month = f"{MONTHS[period.month - 1]} {period.year}"
    charged = CHARGED.format(days=days, month_days=period.days)
    if not correction:
        return LINE.format(name=name, month=month, charged=charged)
    return CORRECTION_LINE.format(
        name=name.lower(), month=month, charged=charged, billed=format_ore(billed_before)
    )


# --- why an invoice is held ------------------------------------------------------------------

NO_FEE_DECISION = "inget avgiftsbeslut för {period}"
LONG_ABSENCE = "frånvaro över 30 dagar: {absences}"
# one absence of a long-absence note: `2026-10-02–2026-11-05 (35 hela dagar utan kost)`
LONG_ABSENCE_ITEM = "{from_date}–{to_date} ({days} hela dagar utan kost{so_far})"
STILL_ABSENT = "pågående"  # the end of an absence that is still open
SO_FAR = " hittills"  # after the days of an absence that is still open
ITEM_SEPARATOR = ", "
NOTE_SEPARATOR = "; "

# --- the fee administrators' notice of a held invoice ----------------------------------------

HELD_SUBJECT = "Faktura hålls för granskning: kund {customer_number}, {period}"
HELD_BODY = (
    "Fakturan för kund {customer_number} för {period} hålls: {hold_note}. "
    "Granska den och släpp den (POST /invoices/{invoice_id}/release)."
)


# --- months older than the correction window ------------------------------------------------

# the fee as it is named inside a sentence: `kost`, `omvårdnad`
FEE_WORDS = {kind: name.lower() for kind, name in FEE_NAMES.items()}
UNCORRECTED_ITEM = (
    "{fee} {period}: {due} kr enligt dagens uppgifter, fakturerat {billed} kr, "
    "skillnad {difference} kr"
)
UNCORRECTED_SUBJECT = "Ej rättade månader: kund {customer_number}, faktureringen för {period}"
UNCORRECTED_BODY = (
    "Avgifterna för kund {customer_number} har ändrats för månader före {correct_from}. "
    "Faktureringen för {period} rättar inga månader före {correct_from}, så de rättades inte: "
    "{items}. Granska dem och rätta dem för hand om det behövs "
    "(GET /billing-runs/{run_id}/uncorrected)."
)


# --- templates as SQL ------------------------------------------------------------------------


def literal(text: str) -> str:
    """`text` as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def sql(template: str, **expressions: str) -> str:
    """`template` as a SQL text expression: its words as literals, each `{name}` as the SQL
    expression given for it, joined with `||` (NULL if any part is NULL, as `||` is)."""
    parts: list[str] = []
    for words, name, _spec, _conversion in string.Formatter().parse(template):
        if words:
            parts.append(literal(words))
        if name is not None:
            parts.append(f"({expressions[name]})")
    return "(" + " || ".join(parts) + ")"
