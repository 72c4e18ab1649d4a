"""Which routing key billing publishes each of its events under."""

from __future__ import annotations

import uuid

from services.billing.events import INVOICE_HELD, INVOICE_ISSUED, route
from services.common.bus import Event


def _event(type: str, **data: object) -> Event:
    return Event(type=type, source="billing", data={"invoice_id": str(uuid.uuid4()), **data})


def test_an_invoice_that_ends_a_stay_is_routed_apart_from_the_months_others() -> None:
    final = _event(INVOICE_ISSUED, final_order_ids=[str(uuid.uuid4())])
    assert route(final) == "invoice.issued.final"
    assert route(_event(INVOICE_ISSUED, final_order_ids=[])) == "invoice.issued"
    assert route(_event(INVOICE_ISSUED)) == "invoice.issued"
    # a held invoice ends nothing until it is released and issued
    assert route(_event(INVOICE_HELD, final_order_ids=[str(uuid.uuid4())])) == "invoice.held"
