"""The contract test of billing's events: every event a billing run and a release write into
billing's outbox is read by its one contract (services/common/contracts), and an invoice
event carries exactly the contract's fields."""

from __future__ import annotations

from services.common.contracts import contract_of
from services.common.contracts.billing import InvoiceEvent
from tests.integration.billing.helpers import (
    decide_fee,
    invoices_of,
    known_customer,
    last_month,
    new_stay,
    run_month,
)


async def test_billings_events_match_their_contracts(http, billing, as_, pool):
    month = last_month()
    decided = await new_stay(http, as_, pool, start=month.first_day)
    held = await new_stay(http, as_, pool, start=month.first_day)
    await decide_fee(billing, as_, pool, decided["customer"]["id"], "2660.00", month.first_day)
    await known_customer(pool, held["customer"]["id"])
    await run_month(billing, as_, month)
    [invoice] = await invoices_of(billing, as_, held["customer"]["id"])
    released = await billing.post(f"/invoices/{invoice['id']}/release", headers=as_("fee_admin"))
    assert released.status_code == 200, released.text

    rows = await pool.fetch(
        """SELECT type, data FROM billing.outbox
           WHERE data ->> 'customer_id' = ANY($1::text[]) ORDER BY seq""",
        [decided["customer"]["id"], held["customer"]["id"]],
    )
    types = [row["type"] for row in rows]
    assert types.count("invoice.issued") == 2 and types.count("invoice.held") == 1
    assert types.count("notification.requested") == 1
    for row in rows:
        contract = contract_of(row["type"])
        event = contract.model_validate(row["data"])
        if issubclass(contract, InvoiceEvent):
            assert set(row["data"]) == set(contract.model_fields)
            assert event.payload() == row["data"]
        else:
            assert set(row["data"]) <= set(contract.model_fields)
