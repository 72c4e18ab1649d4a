"""The floor: one set-based statement that computes a month's invoices and lines from the
same read model and writes them into scratch tables. No batching, no workflow, no
numbering, no events, no corrections: the least work that gives the same invoices.

The scratch tables are ordinary (logged) tables without indexes: the rows are as durable
as the run's, and nothing else is written."""

from __future__ import annotations

import time

import asyncpg

from services.billing.domain import DAYS_PER_MONTH, LONG_ABSENCE_DAYS, Period

SCRATCH = """
DROP SCHEMA IF EXISTS bench_floor CASCADE;
CREATE SCHEMA bench_floor;
CREATE TABLE bench_floor.invoices (
    customer_id uuid PRIMARY KEY, customer_number text NOT NULL, status text NOT NULL,
    total bigint NOT NULL);
CREATE TABLE bench_floor.lines (
    customer_id uuid NOT NULL, fee text NOT NULL, days int NOT NULL, amount bigint NOT NULL);
"""

# $1 first day, $2 last day, $3 care reasons, $4 long absence days, $5 days per month
FLOOR = """
WITH stayed AS (
    SELECT s.customer_id,
           range_agg(daterange(greatest(s.start_date, $1), least(s.end_date, $2), '[]')) AS days
    FROM billing.stays s JOIN billing.customers c ON c.id = s.customer_id
    WHERE s.start_date <= $2 AND (s.end_date IS NULL OR s.end_date >= $1)
    GROUP BY s.customer_id
),
absent AS (
    SELECT a.customer_id,
           range_agg(daterange(greatest(a.from_date, $1), least(a.to_date, $2), '[]')) AS food,
           range_agg(daterange(greatest(a.from_date, $1), least(a.to_date, $2), '[]'))
               FILTER (WHERE a.reason = ANY($3::text[])) AS care,
           bool_or(coalesce(a.to_date, $2) - a.from_date + 1 > $4) AS long_absence
    FROM billing.absences a
    WHERE NOT a.removed AND a.from_date <= $2 AND (a.to_date IS NULL OR a.to_date >= $1)
    GROUP BY a.customer_id
),
decision AS (
    SELECT DISTINCT ON (d.customer_id) d.customer_id, d.care_monthly_amount
    FROM billing.fee_decisions d
    WHERE d.valid_from <= $2 AND (d.valid_to IS NULL OR d.valid_to >= $1)
    ORDER BY d.customer_id, d.valid_from DESC, d.created_at DESC
),
tariff AS (
    SELECT (SELECT monthly_amount FROM billing.tariffs WHERE kind = 'food' AND valid_from <= $1
            ORDER BY valid_from DESC LIMIT 1) AS food,
           (SELECT monthly_amount FROM billing.tariffs WHERE kind = 'care_max'
            AND valid_from <= $1 ORDER BY valid_from DESC LIMIT 1) AS care_max
),
-- materialized, as in the run: the days are counted once per row
fees AS MATERIALIZED (
    SELECT s.customer_id, f.fee, coalesce(a.long_absence, false) AS long_absence,
           d.customer_id IS NOT NULL AS has_decision,
           CASE WHEN f.fee = 'food' THEN t.food
                WHEN d.customer_id IS NOT NULL
                THEN least(d.care_monthly_amount, t.care_max) END AS monthly,
           (SELECT coalesce(sum(upper(r) - lower(r)), 0)::int
            FROM unnest(s.days - coalesce(CASE f.fee WHEN 'food' THEN a.food ELSE a.care END,
                                          '{}'::datemultirange)) r) AS days
    FROM stayed s CROSS JOIN tariff t CROSS JOIN (VALUES ('food'), ('care')) f (fee)
    LEFT JOIN absent a ON a.customer_id = s.customer_id
    LEFT JOIN decision d ON d.customer_id = s.customer_id
),
lines AS (
    SELECT customer_id, fee, days, long_absence, has_decision,
           CASE WHEN ($2 - $1 + 1) - days >= $5 THEN 0
                ELSE (monthly * ($5 - (($2 - $1 + 1) - days)) * 2 + $5) / ($5 * 2) END AS amount
    FROM fees WHERE monthly IS NOT NULL
),
invoices AS (
    INSERT INTO bench_floor.invoices (customer_id, customer_number, status, total)
    SELECT l.customer_id, c.customer_number,
           CASE WHEN bool_or(l.long_absence) OR NOT bool_or(l.has_decision) THEN 'held'
                ELSE 'issued' END,
           sum(l.amount)
    FROM lines l JOIN billing.customers c ON c.id = l.customer_id
    GROUP BY l.customer_id, c.customer_number
)
INSERT INTO bench_floor.lines (customer_id, fee, days, amount)
SELECT customer_id, fee, days, amount FROM lines
"""


async def run_floor(conn: asyncpg.Connection, period: Period, care_reasons: list[str]) -> float:
    """Write the month's invoices and lines into bench_floor; the statement's wall time (s)."""
    await conn.execute(SCRATCH)
    started = time.perf_counter()
    await conn.execute(
        FLOOR, period.first_day, period.last_day, care_reasons, LONG_ABSENCE_DAYS, DAYS_PER_MONTH
    )
    return time.perf_counter() - started


COMPARE = """
SELECT
  (SELECT count(*) FROM bench_floor.invoices) AS floor_invoices,
  (SELECT coalesce(sum(total), 0) FROM bench_floor.invoices)::bigint AS floor_total,
  (SELECT count(*) FROM bench_floor.lines) AS floor_lines,
  (SELECT count(*) FROM billing.invoices WHERE run_id = $1) AS run_invoices,
  (SELECT coalesce(sum(total), 0) FROM billing.invoices WHERE run_id = $1)::bigint AS run_total,
  (SELECT count(*) FROM billing.invoice_lines l JOIN billing.invoices i ON i.id = l.invoice_id
   WHERE i.run_id = $1) AS run_lines,
  (SELECT count(*) FROM bench_floor.invoices f
   FULL JOIN (SELECT customer_id, status, total FROM billing.invoices WHERE run_id = $1) i
     ON i.customer_id = f.customer_id
   WHERE f.total IS DISTINCT FROM i.total OR f.status IS DISTINCT FROM i.status)
     AS differing_invoices,
  (SELECT count(*) FROM bench_floor.lines f
   FULL JOIN (SELECT l.customer_id, l.fee, l.days, l.amount FROM billing.invoice_lines l
              JOIN billing.invoices i ON i.id = l.invoice_id WHERE i.run_id = $1) r
     ON r.customer_id = f.customer_id AND r.fee = f.fee
   WHERE f.amount IS DISTINCT FROM r.amount OR f.days IS DISTINCT FROM r.days) AS differing_lines
"""


async def compare(conn: asyncpg.Connection, run_id: object) -> dict[str, int]:
    """The run's invoices and lines against the floor's, invoice by invoice, line by line."""
    return dict(await conn.fetchrow(COMPARE, run_id))
