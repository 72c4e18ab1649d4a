"""Events the billing service publishes: an invoice issued, or held for review."""

from __future__ import annotations

import uuid

from pydantic import Field

from services.common.contracts.base import Contract, register


class InvoiceEvent(Contract):
    """The data of `invoice.issued` and `invoice.held`: the invoice as its customer's
    lifecycle and the fee administrators read it (money as kronor with two decimals)."""

    invoice_id: uuid.UUID
    number: str | None  # YYYY-NNNNNN; None while held
    customer_id: uuid.UUID
    customer_number: str
    period: str  # YYYY-MM
    kind: str  # regular | correction
    status: str  # issued | held
    total: str  # kronor, "3333.33"
    hold_reasons: list[str]  # no_fee_decision, long_absence; empty when issued
    # orders whose stay has ended and whose last month this invoice covers: their
    # lifecycles may complete; each order is named once, by the first such invoice
    final_order_ids: list[uuid.UUID] = Field(default_factory=list)


@register
class InvoiceIssued(InvoiceEvent):
    TYPE = "invoice.issued"


@register
class InvoiceHeld(InvoiceEvent):
    TYPE = "invoice.held"


# An issued invoice that covers the last month of an ended stay is published under this
# longer routing key: the lifecycle bridge binds it alone, not the month's other invoices.
# Every other consumer binds `invoice.issued.#`, which matches it too.
FINAL_INVOICE_ROUTE = f"{InvoiceIssued.TYPE}.final"

INVOICE_EVENTS: tuple[type[InvoiceEvent], ...] = (InvoiceIssued, InvoiceHeld)
