"""The events billing publishes, built by this module alone from their contracts
(services/common/contracts/billing.py): `invoice.issued`, `invoice.held`, and the fee
administrators' notice of a held invoice (`notification.requested`).

A billing run writes the events of thousands of invoices in one statement
(services/billing/engine.py), so their data is built by the database. The SQL below is
that data, one expression per field of the contract; a field the contract has and the SQL
does not (or the other way round) fails at import, before any event is written.
"""

from __future__ import annotations

from collections.abc import Mapping

from services.billing import texts
from services.common.contracts import Contract
from services.common.contracts.billing import (
    FINAL_INVOICE_ROUTE,
    InvoiceEvent,
    InvoiceHeld,
    InvoiceIssued,
)
from services.common.contracts.notifications import NotificationRequested

FEE_ADMINS = "group:avgifter"  # the fee administrators' mailbox


def kronor_sql(ore: str) -> str:
    """Kronor as the API writes them (`"-133.33"`), from an öre expression."""
    return f"""(CASE WHEN {ore} < 0 THEN '-' ELSE '' END || (abs({ore}) / 100)::text || '.'
              || lpad((abs({ore}) % 100)::text, 2, '0'))"""


def data_sql(contract: type[Contract], fields: Mapping[str, str]) -> str:
    """The `jsonb` of one event of `contract`, a SQL expression per field; every field
    without a default must be there, and nothing the contract does not name."""
    known = contract.model_fields
    required = {name for name, field in known.items() if field.is_required()}
    unknown, missing = set(fields) - set(known), required - set(fields)
    if unknown or missing:
        raise TypeError(
            f"{contract.__name__}: SQL for fields it does not have {sorted(unknown)}, "
            f"none for fields it needs {sorted(missing)}"
        )
    pairs = ", ".join(f"{texts.literal(name)}, {sql}" for name, sql in fields.items())
    return f"jsonb_build_object({pairs})"


# --- invoice.issued / invoice.held --------------------------------------------------------------

# the event's type, from an invoice `inv` (as engine._EVENT_COLUMNS reads it)
INVOICE_TYPE_SQL = (
    f"CASE inv.status WHEN 'issued' THEN {texts.literal(InvoiceIssued.TYPE)} "
    f"ELSE {texts.literal(InvoiceHeld.TYPE)} END"
)
# its data, from `inv` and the orders whose stay it ends (`f.order_ids`, a jsonb array)
INVOICE_DATA_SQL = data_sql(
    InvoiceEvent,
    {
        "invoice_id": "inv.id",
        "number": "inv.number",
        "customer_id": "inv.customer_id",
        "customer_number": "inv.customer_number",
        "period": "to_char(inv.period, 'YYYY-MM')",
        "kind": "inv.kind",
        "status": "inv.status",
        "total": kronor_sql("inv.total"),
        "hold_reasons": "to_jsonb(inv.hold_reasons)",
        "final_order_ids": "coalesce(f.order_ids, '[]'::jsonb)",
    },
)

# --- the fee administrators' notice of a held invoice -------------------------------------------

NOTICE_TYPE_SQL = texts.literal(NotificationRequested.TYPE)
_PERIOD = "to_char(inv.period, 'YYYY-MM')"
HELD_NOTICE_SQL = data_sql(
    NotificationRequested,
    {
        "to": f"jsonb_build_array({texts.literal(FEE_ADMINS)}::text)",
        "subject": texts.sql(
            texts.HELD_SUBJECT, customer_number="inv.customer_number", period=_PERIOD
        ),
        "body": texts.sql(
            texts.HELD_BODY,
            customer_number="inv.customer_number",
            period=_PERIOD,
            hold_note="inv.hold_note",
            invoice_id="inv.id",
        ),
        "kind": texts.literal(InvoiceHeld.TYPE),
        "customer_id": "inv.customer_id",
        "customer_number": "inv.customer_number",
    },
)

# --- the fee administrators' notice of months the run did not correct -------------------------

UNCORRECTED_KIND = "billing.uncorrected"
# one customer's months before the window, from `u` (customer_id, customer_number, items: the
# months as text), the run $1, the month it bills $2 and the first month it corrects $3
UNCORRECTED_NOTICE_SQL = data_sql(
    NotificationRequested,
    {
        "to": f"jsonb_build_array({texts.literal(FEE_ADMINS)}::text)",
        "subject": texts.sql(
            texts.UNCORRECTED_SUBJECT,
            customer_number="u.customer_number",
            period="to_char($2::date, 'YYYY-MM')",
        ),
        "body": texts.sql(
            texts.UNCORRECTED_BODY,
            customer_number="u.customer_number",
            correct_from="to_char($3::date, 'YYYY-MM')",
            period="to_char($2::date, 'YYYY-MM')",
            items="u.items",
            run_id="$1::uuid::text",
        ),
        "kind": texts.literal(UNCORRECTED_KIND),
        "customer_id": "u.customer_id",
        "customer_number": "u.customer_number",
    },
)
# one month and fee of `x` (a row of billing.uncorrected) as the notice lists it
UNCORRECTED_ITEM_SQL = texts.sql(
    texts.UNCORRECTED_ITEM,
    fee=(
        "CASE x.fee "
        + " ".join(
            f"WHEN {texts.literal(kind.value)} THEN {texts.literal(word)}"
            for kind, word in texts.FEE_WORDS.items()
        )
        + " END"
    ),
    period="to_char(x.period, 'YYYY-MM')",
    due=kronor_sql("x.due"),
    billed=kronor_sql("x.billed_before"),
    difference=kronor_sql("x.difference"),
)

# --- routing ----------------------------------------------------------------------------------

# The routing key of an outbox row of billing's, as the relay selects it: an issued invoice
# that names the orders whose stay it ends goes out under `invoice.issued.final`, every
# other event under its type (a held invoice ends nothing until it is released and issued).
ROUTING_KEY = f"""CASE WHEN type = {texts.literal(InvoiceIssued.TYPE)}
                     AND coalesce(data -> 'final_order_ids', '[]'::jsonb) <> '[]'::jsonb
                THEN {texts.literal(FINAL_INVOICE_ROUTE)} ELSE type END"""
