"""Which routing key the relay publishes each of billing's events under."""

from __future__ import annotations

import json
import uuid

from services.billing.events import ROUTING_KEY
from services.common.contracts.billing import InvoiceHeld, InvoiceIssued

INVOICE_ISSUED, INVOICE_HELD = InvoiceIssued.TYPE, InvoiceHeld.TYPE


async def _route(pool, type: str, data: dict) -> str:
    async with pool.acquire() as conn:
        return await conn.fetchval(
            f"""SELECT {ROUTING_KEY}
                FROM (VALUES ($1::text, $2::text::jsonb)) AS outbox (type, data)""",
            type,
            json.dumps(data),
        )


async def test_an_invoice_that_ends_a_stay_is_routed_apart_from_the_months_others(pool) -> None:
    order = str(uuid.uuid4())
    assert await _route(pool, INVOICE_ISSUED, {"final_order_ids": [order]}) == (
        "invoice.issued.final"
    )
    assert await _route(pool, INVOICE_ISSUED, {"final_order_ids": []}) == "invoice.issued"
    assert await _route(pool, INVOICE_ISSUED, {}) == "invoice.issued"
    # a held invoice ends nothing until it is released and issued
    assert await _route(pool, INVOICE_HELD, {"final_order_ids": [order]}) == "invoice.held"
    assert await _route(pool, "notification.requested", {"to": ["group:avgifter"]}) == (
        "notification.requested"
    )
