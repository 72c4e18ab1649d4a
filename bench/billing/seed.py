"""The read model the bench bills: customers, ongoing stays, absences, tariffs and fee
decisions, written straight into the billing schema (as its consumer would from events)."""

from __future__ import annotations

import asyncpg

from services.billing.domain import Period

# Stays: every customer one ongoing stay; one in ten moved in during the month.
# Absences: every fifth customer one, in four shapes taken in turn: inside the month,
# across its first day, across its last day, and still open; reasons hospital, relatives,
# vacation in turn (hospital spares the care fee too). A few are longer than 30 days
# (their invoices are held), and one customer in a hundred has no fee decision (held too).
SEED = """
INSERT INTO billing.customers (id, customer_number)
SELECT md5('bench-customer-' || n)::uuid, (300000 + n)::text FROM generate_series(1, $1) n;

INSERT INTO billing.stays (execution_id, order_id, customer_id, unit_id, start_date)
SELECT md5('bench-execution-' || n)::uuid, md5('bench-order-' || n)::uuid,
       md5('bench-customer-' || n)::uuid, 'bench-unit-' || (n % 50),
       CASE WHEN n % 10 = 3 THEN $2::date + (n % 20)
            ELSE $2::date - 1 - (n % 700) END
FROM generate_series(1, $1) n;

INSERT INTO billing.absences (id, customer_id, reason, from_date, to_date, revision)
SELECT md5('bench-absence-' || n)::uuid, md5('bench-customer-' || n)::uuid,
       (ARRAY['hospital', 'relatives', 'vacation'])[1 + (n / 5) % 3],
       CASE (n / 5) % 4 WHEN 0 THEN $2::date + 2 + n % 10
                        WHEN 1 THEN $2::date - 1 - n % 7
                        WHEN 2 THEN $3::date - n % 5
                        ELSE $3::date - 3 - n % 9 END,
       CASE (n / 5) % 4 WHEN 0 THEN $2::date + 2 + n % 10 + n % 9
                        WHEN 1 THEN $2::date + n % 6 + CASE WHEN n % 35 = 0 THEN 30 ELSE 0 END
                        WHEN 2 THEN $3::date + 1 + n % 6
                        ELSE NULL END,
       1
FROM generate_series(5, $1, 5) n;

INSERT INTO billing.fee_decisions (id, customer_id, care_monthly_amount, valid_from, created_by)
SELECT md5('bench-decision-' || n)::uuid, md5('bench-customer-' || n)::uuid,
       (ARRAY[266000, 266000, 185000, 120000, 266000])[1 + n % 5], $2::date - 400, 'bench'
FROM generate_series(1, $1) n WHERE n % 100 <> 1;
"""


async def seed(
    conn: asyncpg.Connection, *, customers: int, period: Period, food: int, care_max: int
) -> None:
    """Fill the read model and the tariffs, then ANALYZE so the planner knows the sizes."""
    async with conn.transaction():
        for statement in SEED.split(";\n"):
            if statement.strip():
                await conn.execute(statement + ";", *_args(statement, customers, period))
        await conn.execute(
            """INSERT INTO billing.tariffs (kind, valid_from, monthly_amount, updated_by)
               VALUES ('food', '2020-01-01', $1, 'bench'),
                      ('care_max', '2020-01-01', $2, 'bench')""",
            food,
            care_max,
        )
    await conn.execute("ANALYZE")


def _args(statement: str, customers: int, period: Period) -> list[object]:
    wanted = [customers, period.first_day, period.last_day]
    used = max(n for n in (1, 2, 3) if f"${n}" in statement)
    return wanted[:used]
