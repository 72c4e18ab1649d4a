"""Billing's event contracts (services/common/contracts/billing.py): one per type, and the
data billing's SQL builds for them names exactly their fields."""

from __future__ import annotations

import re
import uuid

import pytest

from services.billing import events
from services.common.contracts import CONTRACTS, contract_of
from services.common.contracts.billing import (
    FINAL_INVOICE_ROUTE,
    InvoiceEvent,
    InvoiceHeld,
    InvoiceIssued,
)
from services.common.contracts.notifications import NotificationRequested


def _keys(data_sql: str) -> set[str]:
    """The top-level keys of a `jsonb_build_object(...)` expression."""
    return set(re.findall(r"(?:\(|, )'(\w+)', ", data_sql))


def test_each_invoice_event_has_its_one_registered_contract():
    assert contract_of("invoice.issued") is InvoiceIssued
    assert contract_of("invoice.held") is InvoiceHeld
    assert (InvoiceIssued.VERSION, InvoiceHeld.VERSION) == (1, 1)
    assert FINAL_INVOICE_ROUTE == "invoice.issued.final"
    assert {"invoice.issued", "invoice.held", "notification.requested"} <= set(CONTRACTS)


def test_the_invoice_events_data_names_exactly_the_contracts_fields():
    assert _keys(events.INVOICE_DATA_SQL) == set(InvoiceEvent.model_fields)


def test_the_held_notice_names_only_fields_of_its_contract():
    keys = _keys(events.HELD_NOTICE_SQL)
    assert keys <= set(NotificationRequested.model_fields)
    required = {n for n, f in NotificationRequested.model_fields.items() if f.is_required()}
    assert required <= keys


def test_data_sql_refuses_a_field_the_contract_does_not_have_or_misses():
    fields = {name: "NULL" for name in InvoiceEvent.model_fields}
    with pytest.raises(TypeError, match="does not have"):
        events.data_sql(InvoiceEvent, {**fields, "invoice_no": "NULL"})
    del fields["customer_number"]
    with pytest.raises(TypeError, match="customer_number"):
        events.data_sql(InvoiceEvent, fields)


def test_an_issued_invoice_reads_back_as_the_bridge_reads_it():
    order = uuid.uuid4()
    data = {
        "invoice_id": str(uuid.uuid4()),
        "number": "2026-000001",
        "customer_id": str(uuid.uuid4()),
        "customer_number": "K-1",
        "period": "2026-10",
        "kind": "regular",
        "status": "issued",
        "total": "6660.00",
        "hold_reasons": [],
        "final_order_ids": [str(order)],
    }
    assert InvoiceIssued.model_validate(data).final_order_ids == [order]
    assert InvoiceIssued.model_validate(data).payload() == data
