"""The billing run's set-based SQL gives what the fee rules of domain.py give, customer by
customer, for hundreds of random stays and absences in one batch; and after the facts
change, its corrections make every month of the correction window add up to the rules
again, while each older month that changed is left as billed and reported."""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, timedelta

import asyncpg
import pytest

from services.billing import domain, engine, repository
from services.billing.domain import Absence, FeeDecision, Period, Span
from services.billing.repository import TariffRow
from services.common import stays
from services.common.db import create_pool
from services.common.migrations import upgrade_all
from tests.integration.billing.helpers import FOOD, MAXTAXA
from tests.integration.conftest import SERVER_DSN

PERIODS = [Period(2026, 2), Period(2028, 2), Period(2026, 4), Period(2026, 12)]
CUSTOMERS_PER_PERIOD = 120
ISSUED_ON = date(2029, 1, 2)


@dataclass
class Customer:
    id: uuid.UUID
    number: str
    stays: list[tuple[uuid.UUID, Span]] = field(default_factory=list)
    absences: dict[uuid.UUID, Absence] = field(default_factory=dict)
    decision: FeeDecision | None = None

    def fees(self, period: Period) -> dict[str, int]:
        """What the rules give for the month today."""
        decision = domain.decision_for(period, [self.decision] if self.decision else [])
        return {
            fee.kind.value: fee.amount
            for fee in domain.month_fees(
                period,
                stays=[span for _id, span in self.stays],
                absences=list(self.absences.values()),
                food_monthly=FOOD,
                care_monthly=decision.care_monthly if decision else None,
                care_max=MAXTAXA,
            )
        }


@pytest.fixture(scope="module")
async def scratch() -> AsyncIterator[asyncpg.Pool]:
    """A database of its own with only the billing schema: no other test's customers."""
    name = f"lifecare_billing_sql_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(f"{SERVER_DSN}/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        await upgrade_all(["billing"], f"{SERVER_DSN}/{name}")
        pool = await create_pool(f"{SERVER_DSN}/{name}")
        yield pool
        await pool.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def _span(rng: random.Random, period: Period) -> Span:
    first = period.first_day + timedelta(days=rng.randint(-45, period.days - 1))
    if rng.random() < 0.4:
        return Span(first)
    return Span(first, first + timedelta(days=rng.randint(0, 75)))


def _customers(rng: random.Random) -> dict[Period, list[Customer]]:
    made: dict[Period, list[Customer]] = {}
    number = 500_000
    for period in PERIODS:
        made[period] = []
        for _ in range(CUSTOMERS_PER_PERIOD):
            number += 1
            customer = Customer(uuid.uuid4(), str(number))
            for _ in range(rng.choice([1, 1, 1, 2, 3])):
                customer.stays.append((uuid.uuid4(), _span(rng, period)))
            for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
                span = _span(rng, period)
                reason = rng.choice(domain.REASONS)
                customer.absences[uuid.uuid4()] = Absence(reason, span.first, span.last)
            if rng.random() < 0.85:
                customer.decision = FeeDecision(
                    rng.choice([MAXTAXA, 150_000, 264_225, 300_000 - 1, 1]),
                    period.first_day - timedelta(days=rng.randint(0, 60)),
                )
            made[period].append(customer)
    return made


async def _record(conn: asyncpg.Connection, customer: Customer) -> None:
    await repository.record_customer(conn, id=customer.id, customer_number=customer.number)
    for execution_id, span in customer.stays:
        await _record_stay(conn, customer, execution_id, span)
    for absence_id, absence in customer.absences.items():
        await _record_absence(conn, customer, absence_id, absence, revision=1)
    if customer.decision:
        await conn.execute(
            """INSERT INTO billing.fee_decisions
                   (id, customer_id, care_monthly_amount, valid_from, valid_to, created_by)
               VALUES ($1, $2, $3, $4, NULL, 'test')""",
            uuid.uuid4(),
            customer.id,
            customer.decision.care_monthly,
            customer.decision.valid_from,
        )


async def _record_stay(conn, customer: Customer, execution_id: uuid.UUID, span: Span) -> None:
    await stays.record(
        conn,
        schema="billing",
        stay=stays.StayFact(
            execution_id=execution_id,
            order_id=uuid.uuid4(),
            customer_id=customer.id,
            unit_id="u",
            start_date=span.first,
            end_date=span.last,
        ),
    )


async def _record_absence(conn, customer, absence_id, absence: Absence, *, revision: int) -> None:
    await repository.record_absence(
        conn,
        id=absence_id,
        customer_id=customer.id,
        reason=absence.reason,
        from_date=absence.first,
        to_date=absence.last,
        revision=revision,
        removed=False,
    )


async def _bill(
    conn: asyncpg.Connection, period: Period, *, months: int = 36
) -> tuple[uuid.UUID, engine.BatchTotals]:
    run_id = uuid.uuid4()
    await repository.open_run(conn, id=run_id, period=period, workflow_id="t", requested_by="t")
    totals = await engine.bill_batch(
        conn,
        run_id=run_id,
        period=period,
        lo=None,
        hi=None,
        care_reasons=list(domain.DEFAULT_CARE_ABSENCE_REASONS),
        long_absence_days=domain.LONG_ABSENCE_DAYS,
        days_per_month=domain.DAYS_PER_MONTH,
        issued_on=ISSUED_ON,
        correct_from=domain.correction_window_start(period, months).first_day,
    )
    return run_id, totals


async def _billed(conn: asyncpg.Connection) -> dict[tuple[uuid.UUID, date, str], int]:
    rows = await conn.fetch(
        "SELECT customer_id, period, fee, sum(amount) AS amount FROM billing.invoice_lines "
        "GROUP BY customer_id, period, fee"
    )
    return {(r["customer_id"], r["period"], r["fee"]): r["amount"] for r in rows}


# the run of 2029-01 corrects every month (36), only 2028-02 on (its first), or none (0)
@pytest.mark.parametrize(("seed", "months"), [(1, 36), (2, 11), (3, 0)])
async def test_the_run_sql_bills_what_the_rules_give_and_corrects_to_them(scratch, seed, months):
    rng = random.Random(seed)
    customers = _customers(rng)
    everyone = [c for group in customers.values() for c in group]
    by_id = {c.id: c for c in everyone}
    async with scratch.acquire() as conn, conn.transaction():
        await conn.execute(
            "TRUNCATE billing.customers, billing.stays, billing.absences, billing.fee_decisions, "
            "billing.invoice_lines, billing.invoices, billing.billing_runs, billing.rechecks, "
            "billing.outbox, billing.invoice_numbers, billing.tariffs"
        )
        await repository.put_tariffs(
            conn,
            tariffs=[
                TariffRow(kind="food", valid_from=date(2020, 1, 1), monthly_amount=FOOD),
                TariffRow(kind="care_max", valid_from=date(2020, 1, 1), monthly_amount=MAXTAXA),
            ],
            updated_by="t",
        )
        for customer in everyone:
            await _record(conn, customer)
        for period in PERIODS:
            await _bill(conn, period)

        # every invoice line is what the rules give, and every customer with a stay is billed
        invoices = await conn.fetch("SELECT * FROM billing.invoices")
        lines = await conn.fetch("SELECT * FROM billing.invoice_lines")
        by_invoice = defaultdict(list)
        for line in lines:
            by_invoice[line["invoice_id"]].append(line)
        for invoice in invoices:
            customer, period = by_id[invoice["customer_id"]], Period.of(invoice["period"])
            expected = customer.fees(period)
            got = {line["fee"]: line["amount"] for line in by_invoice[invoice["id"]]}
            assert got == expected, (customer, period)
            reasons = domain.hold_reasons(
                period,
                has_fee_decision="care" in expected,
                absences=customer.absences.values(),
            )
            assert invoice["hold_reasons"] == [r.value for r in reasons]
            assert invoice["total"] == sum(expected.values())
        billed = {(i["customer_id"], Period.of(i["period"])) for i in invoices}
        for period, group in customers.items():
            for customer in group:
                if customer.fees(period)["food"] or any(
                    span.days_in(period) for _id, span in customer.stays
                ):
                    assert (customer.id, period) in billed, (customer, period)

        billed_first = await _billed(conn)
        # the facts change: absences added, stays ended earlier or later
        for customer in everyone:
            if rng.random() < 0.5:
                period = rng.choice(PERIODS)
                span = _span(rng, period)
                absence = Absence(rng.choice(domain.REASONS), span.first, span.last)
                absence_id = uuid.uuid4()
                customer.absences[absence_id] = absence
                await _record_absence(conn, customer, absence_id, absence, revision=1)
                await repository.mark_rechecks(conn, customer_id=customer.id, since=span.first)
            if rng.random() < 0.3:
                execution_id, span = customer.stays[0]
                moved = Span(span.first, span.first + timedelta(days=rng.randint(0, 40)))
                customer.stays[0] = (execution_id, moved)
                await _record_stay(conn, customer, execution_id, moved)
                await repository.mark_rechecks(conn, customer_id=customer.id, since=span.first)
        # a month after all of them: each customer's corrections come on that invoice, for
        # the months of the window
        last = Period(2029, 1)
        run_id, totals = await _bill(conn, last, months=months)

        billed_now = await _billed(conn)
        left: dict[tuple[uuid.UUID, date, str], int] = {}
        checked = set()
        for customer in everyone:
            for month in PERIODS:
                for fee, expected in customer.fees(month).items():
                    key = (customer.id, month.first_day, fee)
                    checked.add(key)
                    amount = billed_now.get(key, 0)
                    if domain.corrects(last, month, months=months):
                        assert amount == expected, key
                    else:  # too old: as billed before; what a correction would be is reported
                        assert amount == billed_first.get(key, 0), key
                        if expected != amount:
                            left[key] = expected - amount
        assert {key for key in billed_now if key[1].year < 2029} <= checked  # no fee unruled
        reported = await conn.fetch("SELECT * FROM billing.uncorrected WHERE run_id = $1", run_id)
        assert {(r["customer_id"], r["period"], r["fee"]): r["difference"] for r in reported} == (
            left
        )
        for row in reported:
            assert row["due"] - row["billed_before"] == row["difference"]
            assert row["customer_number"] == by_id[row["customer_id"]].number
        assert totals.uncorrected == len({(c, m) for c, m, _fee in left})
        assert (months == 36) == (not left)  # 36 reaches 2026-02: nothing left; 11 leaves some
        # one notice per customer to the fee administrators, naming each month left
        notices = await conn.fetch(
            "SELECT data FROM billing.outbox WHERE data ->> 'kind' = 'billing.uncorrected'"
        )
        by_customer = {uuid.UUID(n["data"]["customer_id"]): n["data"] for n in notices}
        assert set(by_customer) == {c for c, _m, _fee in left}
        for (customer_id, month, _fee), _difference in left.items():
            notice = by_customer[customer_id]
            assert notice["to"] == ["group:avgifter"]
            assert f"{Period.of(month)}:" in notice["body"]
            assert f"före {domain.correction_window_start(last, months)}" in notice["body"]
        numbers = await conn.fetchval(
            "SELECT array_agg(number_seq ORDER BY number_seq) FROM billing.invoices "
            "WHERE number_seq IS NOT NULL"
        )
        assert numbers == list(range(1, len(numbers) + 1))
