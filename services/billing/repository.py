"""All SQL of the billing service. Functions never commit: the caller owns the transaction.

Bulk work is set-based: a billing run bills a batch of customers in a handful of statements,
whatever the batch's size (`bill_batch`), never a query per customer.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg

from services.billing.domain import Period

Row = dict[str, Any]


def _row(record: asyncpg.Record | None) -> Row | None:
    return dict(record) if record is not None else None


# --- the read model --------------------------------------------------------------------------


async def record_customer(conn: asyncpg.Connection, *, id: uuid.UUID, customer_number: str) -> None:
    await conn.execute(
        """INSERT INTO billing.customers (id, customer_number) VALUES ($1, $2)
           ON CONFLICT (id) DO UPDATE SET customer_number = EXCLUDED.customer_number""",
        id,
        customer_number,
    )


async def customer_exists(conn: asyncpg.Connection, *, id: uuid.UUID) -> bool:
    return bool(await conn.fetchval("SELECT true FROM billing.customers WHERE id = $1", id))


async def record_stay(
    conn: asyncpg.Connection,
    *,
    execution_id: uuid.UUID,
    order_id: uuid.UUID,
    customer_id: uuid.UUID,
    unit_id: str,
    start_date: date,
    end_date: date | None,
) -> date | None:
    """Learn a stay or its end, in whichever order the events come.

    Returns the end date known before (None for a new or open stay).
    """
    before = await conn.fetchval(
        "SELECT end_date FROM billing.stays WHERE execution_id = $1 FOR UPDATE", execution_id
    )
    await conn.execute(
        """INSERT INTO billing.stays
               (execution_id, order_id, customer_id, unit_id, start_date, end_date)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (execution_id) DO UPDATE
              SET end_date = COALESCE(EXCLUDED.end_date, billing.stays.end_date)""",
        execution_id,
        order_id,
        customer_id,
        unit_id,
        start_date,
        end_date,
    )
    return before


async def record_absence(
    conn: asyncpg.Connection,
    *,
    id: uuid.UUID,
    customer_id: uuid.UUID,
    reason: str,
    from_date: date,
    to_date: date | None,
    revision: int,
    removed: bool,
) -> Row | None:
    """Apply an absence event unless a newer revision is known.

    Returns `{"applied": bool, "from_date": date | None}` with the first day known before.
    """
    before = await conn.fetchrow(
        "SELECT from_date, revision FROM billing.absences WHERE id = $1 FOR UPDATE", id
    )
    if before is not None and before["revision"] >= revision:
        return None
    await conn.execute(
        """INSERT INTO billing.absences
               (id, customer_id, reason, from_date, to_date, revision, removed)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (id) DO UPDATE
              SET reason = EXCLUDED.reason, from_date = EXCLUDED.from_date,
                  to_date = EXCLUDED.to_date, revision = EXCLUDED.revision,
                  removed = EXCLUDED.removed""",
        id,
        customer_id,
        reason,
        from_date,
        to_date,
        revision,
        removed,
    )
    return {"from_date": before["from_date"] if before else None}


async def mark_rechecks(conn: asyncpg.Connection, *, customer_id: uuid.UUID, since: date) -> None:
    """A fact of the customer from `since` on changed: check again every month from then
    that a billing run has reached, on the customer's next invoice."""
    await conn.execute(
        """INSERT INTO billing.rechecks (customer_id, period)
           SELECT DISTINCT $1::uuid, period FROM billing.billing_runs
           WHERE period >= date_trunc('month', $2::date)::date
           ON CONFLICT (customer_id, period) DO UPDATE SET seq = nextval('billing.recheck_seq')""",
        customer_id,
        since,
    )


async def invoice_covering_end(
    conn: asyncpg.Connection, *, execution_id: uuid.UUID
) -> uuid.UUID | None:
    """The latest issued invoice that covers an ended stay's last month, while no invoice
    event has named the stay's order yet (its end became known after the month was billed)."""
    return await conn.fetchval(
        """SELECT i.id FROM billing.stays s
           JOIN billing.invoices i ON i.customer_id = s.customer_id AND i.status = 'issued'
                                  AND i.period >= date_trunc('month', s.end_date)
           WHERE s.execution_id = $1 AND s.final_invoice_id IS NULL
           ORDER BY i.period DESC, i.kind DESC LIMIT 1""",
        execution_id,
    )


# --- tariffs ---------------------------------------------------------------------------------


async def list_tariffs(conn: asyncpg.Connection) -> list[Row]:
    records = await conn.fetch(
        "SELECT kind, monthly_amount, valid_from FROM billing.tariffs ORDER BY kind, valid_from"
    )
    return [dict(r) for r in records]


async def put_tariffs(conn: asyncpg.Connection, *, tariffs: list[Row], updated_by: str) -> None:
    """Set each tariff (kind, valid_from) to its monthly amount."""
    await conn.execute(
        """INSERT INTO billing.tariffs (kind, valid_from, monthly_amount, updated_by)
           SELECT t.kind, t.valid_from, t.amount, $4
           FROM unnest($1::text[], $2::date[], $3::bigint[]) AS t (kind, valid_from, amount)
           ON CONFLICT (kind, valid_from) DO UPDATE
              SET monthly_amount = EXCLUDED.monthly_amount,
                  updated_by = EXCLUDED.updated_by, updated_at = now()""",
        [t["kind"] for t in tariffs],
        [t["valid_from"] for t in tariffs],
        [t["monthly_amount"] for t in tariffs],
        updated_by,
    )


async def last_billed_period(conn: asyncpg.Connection) -> date | None:
    """The latest month any invoice was made for."""
    return await conn.fetchval("SELECT max(period) FROM billing.invoices")


async def tariffs_in_force(conn: asyncpg.Connection, *, period: Period) -> Row:
    """The food tariff and the maxtaxa of a month (None where there is none)."""
    record = await conn.fetchrow(
        """SELECT
             (SELECT monthly_amount FROM billing.tariffs WHERE kind = 'food' AND valid_from <= $1
              ORDER BY valid_from DESC LIMIT 1) AS food,
             (SELECT monthly_amount FROM billing.tariffs WHERE kind = 'care_max'
              AND valid_from <= $1 ORDER BY valid_from DESC LIMIT 1) AS care_max""",
        period.first_day,
    )
    return dict(record)


async def care_max_by_start(conn: asyncpg.Connection) -> dict[date, int]:
    records = await conn.fetch(
        "SELECT valid_from, monthly_amount FROM billing.tariffs WHERE kind = 'care_max'"
    )
    return {r["valid_from"]: r["monthly_amount"] for r in records}


# --- fee decisions ---------------------------------------------------------------------------

_DECISION_COLUMNS = "id, customer_id, care_monthly_amount, valid_from, valid_to, created_at"


async def insert_fee_decision(
    conn: asyncpg.Connection,
    *,
    id: uuid.UUID,
    customer_id: uuid.UUID,
    care_monthly_amount: int,
    valid_from: date,
    valid_to: date | None,
    created_by: str,
) -> Row:
    record = await conn.fetchrow(
        f"""INSERT INTO billing.fee_decisions
                (id, customer_id, care_monthly_amount, valid_from, valid_to, created_by)
            VALUES ($1, $2, $3, $4, $5, $6) RETURNING {_DECISION_COLUMNS}""",
        id,
        customer_id,
        care_monthly_amount,
        valid_from,
        valid_to,
        created_by,
    )
    return dict(record)


async def list_fee_decisions(
    conn: asyncpg.Connection, *, customer_id: uuid.UUID | None
) -> list[Row]:
    records = await conn.fetch(
        f"""SELECT {_DECISION_COLUMNS} FROM billing.fee_decisions
            WHERE $1::uuid IS NULL OR customer_id = $1
            ORDER BY customer_id, valid_from, created_at LIMIT 5000""",
        customer_id,
    )
    return [dict(r) for r in records]


# --- billing runs ----------------------------------------------------------------------------

_RUN_COLUMNS = """
    r.id, r.period, r.workflow_id, r.status, r.requested_by, r.started_at, r.completed_at,
    r.error, r.invoices, r.issued, r.held, r.correction_invoices, r.total
"""


async def open_run(
    conn: asyncpg.Connection,
    *,
    id: uuid.UUID,
    period: Period,
    workflow_id: str,
    requested_by: str,
) -> None:
    """Record a billing run as running (again, if its workflow is retried)."""
    await conn.execute(
        """INSERT INTO billing.billing_runs (id, period, workflow_id, status, requested_by)
           VALUES ($1, $2, $3, 'running', $4)
           ON CONFLICT (id) DO UPDATE SET status = 'running', error = NULL""",
        id,
        period.first_day,
        workflow_id,
        requested_by,
    )


async def finish_run(
    conn: asyncpg.Connection, *, id: uuid.UUID, status: str, error: str | None = None
) -> None:
    await conn.execute(
        """UPDATE billing.billing_runs SET status = $2, error = $3, completed_at = now()
           WHERE id = $1""",
        id,
        status,
        error,
    )


async def count_batch(conn: asyncpg.Connection, *, id: uuid.UUID, totals: Row) -> None:
    """Add a batch's invoices to its run's counts (last in the batch's transaction: the
    batches side by side wait for each other on the run's row only from here)."""
    await conn.execute(
        """UPDATE billing.billing_runs
              SET invoices = invoices + $2 + $3, issued = issued + $2, held = held + $3,
                  correction_invoices = correction_invoices + $4, total = total + $5
            WHERE id = $1""",
        id,
        totals["issued"],
        totals["held"],
        totals["correction_invoices"],
        totals["total"],
    )


async def previous_run_closed(
    conn: asyncpg.Connection, *, workflow_id: str, excluding: uuid.UUID | None
) -> bool:
    """Whether the latest other run under this workflow id has completed or failed."""
    status = await conn.fetchval(
        """SELECT status FROM billing.billing_runs
           WHERE workflow_id = $1 AND id IS DISTINCT FROM $2
           ORDER BY started_at DESC LIMIT 1""",
        workflow_id,
        excluding,
    )
    return status in ("completed", "failed")


async def get_run(conn: asyncpg.Connection, *, id: uuid.UUID) -> Row | None:
    return _row(
        await conn.fetchrow(
            f"""SELECT {_RUN_COLUMNS} FROM billing.billing_runs r WHERE r.id = $1""",
            id,
        )
    )


# --- invoices --------------------------------------------------------------------------------

_INVOICE_COLUMNS = """
    i.id, i.customer_id, i.customer_number, i.period, i.kind, i.status, i.number_year,
    i.number_seq, i.issued_on, i.hold_reasons, i.hold_note, i.total, i.run_id, i.created_at,
    i.released_by, i.released_at
"""
_LINE_COLUMNS = """
    l.invoice_id, l.line_no, l.fee, l.correction, l.period, l.days, l.monthly_amount, l.due,
    l.billed_before, l.amount
"""


async def list_invoices(
    conn: asyncpg.Connection,
    *,
    period: Period | None,
    customer_id: uuid.UUID | None,
    status: str | None,
    limit: int,
    offset: int,
) -> list[Row]:
    records = await conn.fetch(
        f"""SELECT {_INVOICE_COLUMNS} FROM billing.invoices i
            WHERE ($1::date IS NULL OR i.period = $1)
              AND ($2::uuid IS NULL OR i.customer_id = $2)
              AND ($3::text IS NULL OR i.status = $3)
            ORDER BY i.period DESC, i.customer_number, i.kind
            LIMIT $4 OFFSET $5""",
        period.first_day if period else None,
        customer_id,
        status,
        limit,
        offset,
    )
    return [dict(r) for r in records]


async def get_invoice(conn: asyncpg.Connection, *, id: uuid.UUID, lock: bool = False) -> Row | None:
    return _row(
        await conn.fetchrow(
            f"SELECT {_INVOICE_COLUMNS} FROM billing.invoices i WHERE i.id = $1"
            + (" FOR UPDATE" if lock else ""),
            id,
        )
    )


async def invoice_lines(conn: asyncpg.Connection, *, invoice_ids: list[uuid.UUID]) -> list[Row]:
    records = await conn.fetch(
        f"""SELECT {_LINE_COLUMNS} FROM billing.invoice_lines l
            WHERE l.invoice_id = ANY($1::uuid[]) ORDER BY l.invoice_id, l.line_no""",
        invoice_ids,
    )
    return [dict(r) for r in records]


async def export_rows(conn: asyncpg.Connection, *, period: Period) -> list[Row]:
    """Every line of the issued invoices of a month, with its invoice, for the CSV export."""
    records = await conn.fetch(
        f"""SELECT {_INVOICE_COLUMNS}, {_LINE_COLUMNS}
            FROM billing.invoices i JOIN billing.invoice_lines l ON l.invoice_id = i.id
            WHERE i.period = $1 AND i.status = 'issued'
            ORDER BY i.number_year, i.number_seq, l.line_no""",
        period.first_day,
    )
    return [dict(r) for r in records]


async def issue_held_invoice(
    conn: asyncpg.Connection, *, id: uuid.UUID, issued_on: date, released_by: str
) -> None:
    """Give a held invoice the next number of the year and issue it; its run counts it
    issued from now on."""
    await conn.execute(
        """WITH number AS (
               INSERT INTO billing.invoice_numbers AS n (year, last) VALUES ($2, 1)
               ON CONFLICT (year) DO UPDATE SET last = n.last + 1
               RETURNING last),
           released AS (
               UPDATE billing.invoices
                  SET status = 'issued', number_year = $2,
                      number_seq = (SELECT last FROM number),
                      issued_on = $3, released_by = $4, released_at = now()
                WHERE id = $1 AND status = 'held'
                RETURNING run_id)
           UPDATE billing.billing_runs r SET issued = r.issued + 1, held = r.held - 1
             FROM released WHERE r.id = released.run_id""",
        id,
        issued_on.year,
        issued_on,
        released_by,
    )


# --- the billing run: set-based over a batch of customers ------------------------------------

# Kronor as the API writes them, from an öre expression (for event data built in SQL).
_KRONOR = """(CASE WHEN {0} < 0 THEN '-' ELSE '' END || (abs({0}) / 100)::text || '.'
              || lpad((abs({0}) % 100)::text, 2, '0'))"""
_NUMBER = "(i.number_year::text || '-' || lpad(i.number_seq::text, 6, '0'))"


@dataclass(frozen=True)
class InvoiceEvents:
    """The types of billing's invoice events, and whom a held invoice is told to."""

    issued: str
    held: str
    notification: str
    fee_admins: str


# Open ends of a batch's id range: customer ids are uuid4, never all ones.
FIRST_ID = uuid.UUID(int=0)
PAST_LAST_ID = uuid.UUID(int=2**128 - 1)


async def plan_batches(
    conn: asyncpg.Connection, *, period: Period, batch_size: int
) -> tuple[int, list[uuid.UUID]]:
    """How many customers the month has to bill, and the customer ids that start each batch
    after the first (batches are id ranges that together cover every id)."""
    records = await conn.fetch(
        """WITH billable AS (
                -- a stay in the month and no regular invoice for it yet
                SELECT s.customer_id FROM billing.stays s
                WHERE s.start_date <= $2 AND (s.end_date IS NULL OR s.end_date >= $1)
                  AND NOT EXISTS (SELECT 1 FROM billing.invoices i
                                  WHERE i.customer_id = s.customer_id AND i.period = $1
                                    AND i.kind = 'regular')
                UNION
                SELECT customer_id FROM billing.rechecks WHERE period < $1),
            numbered AS (
                SELECT customer_id, row_number() OVER (ORDER BY customer_id) AS n,
                       count(*) OVER () AS total
                FROM billable)
            SELECT customer_id, total FROM numbered
            WHERE n % $3 = 1 OR n = 1 ORDER BY customer_id""",
        period.first_day,
        period.last_day,
        batch_size,
    )
    total = records[0]["total"] if records else 0
    return total, [r["customer_id"] for r in records[1:]]


# One statement, so one snapshot: the lines of every customer of the batch who gets an
# invoice for the month $1..$2, with the months to check again ($3 <= id < $4). Every
# table is read by that id range, so a batch costs what its customers cost, whatever the
# size of the whole.
# - regular:    customers with a stay in the month and no regular invoice for it yet;
# - correcting: customers with months to check again, no stay in the month and no
#               correction invoice for it yet (their stay is over);
# - months:     the month itself for regular invoices, and each month to check again.
# Per customer and month: the days of its stays (a multirange, so two stays never count a
# day twice), less absence (all of it for food, the care reasons $5 for care), the tariffs
# and the fee decision of the month, and what earlier lines billed for it. The fee is
# domain.month_fee: monthly * (30 - days not charged) / 30, never below 0, half up; and
# 0 for a month without a day of stay (domain.month_fees).
_BILL_LINES = """
CREATE TEMP TABLE bill_lines ON COMMIT DROP AS
WITH
regular AS (
    SELECT DISTINCT s.customer_id FROM billing.stays s
    WHERE s.customer_id >= $3 AND s.customer_id < $4
      AND s.start_date <= $2 AND (s.end_date IS NULL OR s.end_date >= $1)
      AND EXISTS (SELECT 1 FROM billing.customers c WHERE c.id = s.customer_id)
      AND NOT EXISTS (SELECT 1 FROM billing.invoices i
                      WHERE i.customer_id = s.customer_id AND i.period = $1
                        AND i.kind = 'regular' AND i.customer_id >= $3 AND i.customer_id < $4)
),
pending AS (
    SELECT r.customer_id, r.period, r.seq FROM billing.rechecks r
    WHERE r.period < $1 AND r.customer_id >= $3 AND r.customer_id < $4
),
correcting AS (
    SELECT DISTINCT p.customer_id FROM pending p
    WHERE EXISTS (SELECT 1 FROM billing.customers c WHERE c.id = p.customer_id)
      AND NOT EXISTS (SELECT 1 FROM billing.stays s WHERE s.customer_id = p.customer_id
                      AND s.start_date <= $2 AND (s.end_date IS NULL OR s.end_date >= $1))
      AND NOT EXISTS (SELECT 1 FROM billing.invoices i WHERE i.customer_id = p.customer_id
                      AND i.period = $1 AND i.kind = 'correction')
),
months AS (
    SELECT customer_id, 'regular' AS invoice_kind, $1::date AS period, NULL::bigint AS seq
    FROM regular
    UNION ALL
    SELECT p.customer_id, 'regular', p.period, p.seq FROM pending p JOIN regular USING (customer_id)
    UNION ALL
    SELECT p.customer_id, 'correction', p.period, p.seq
    FROM pending p JOIN correcting USING (customer_id)
),
bounded AS (
    SELECT m.*, (m.period + interval '1 month' - interval '1 day')::date AS last_day
    FROM months m
),
stayed AS (
    SELECT b.customer_id, b.period,
           range_agg(daterange(greatest(s.start_date, b.period),
                               least(s.end_date, b.last_day), '[]')) AS days
    FROM bounded b JOIN billing.stays s ON s.customer_id = b.customer_id
         AND s.start_date <= b.last_day AND (s.end_date IS NULL OR s.end_date >= b.period)
    WHERE s.customer_id >= $3 AND s.customer_id < $4
    GROUP BY b.customer_id, b.period
),
absent AS (
    SELECT b.customer_id, b.period,
           range_agg(x.days) AS food,
           range_agg(x.days) FILTER (WHERE a.reason = ANY($5::text[])) AS care,
           string_agg(a.from_date::text || '–' || coalesce(a.to_date::text, 'pågående') || ' ('
                      || x.length || ' hela dagar utan kost'
                      || CASE WHEN a.to_date IS NULL THEN ' hittills' ELSE '' END || ')',
                      ', ' ORDER BY a.from_date) FILTER (WHERE x.length > $6) AS long_absences
    FROM bounded b JOIN billing.absences a ON a.customer_id = b.customer_id AND NOT a.removed
         AND a.from_date <= b.last_day AND (a.to_date IS NULL OR a.to_date >= b.period)
         AND a.customer_id >= $3 AND a.customer_id < $4
    CROSS JOIN LATERAL (
        SELECT daterange(greatest(a.from_date, b.period), least(a.to_date, b.last_day), '[]')
                   AS days,
               coalesce(a.to_date, b.last_day) - a.from_date + 1 AS length) x
    GROUP BY b.customer_id, b.period
),
tariff AS (
    SELECT m.period,
           (SELECT t.monthly_amount FROM billing.tariffs t WHERE t.kind = 'food'
            AND t.valid_from <= m.period ORDER BY t.valid_from DESC LIMIT 1) AS food,
           (SELECT t.monthly_amount FROM billing.tariffs t WHERE t.kind = 'care_max'
            AND t.valid_from <= m.period ORDER BY t.valid_from DESC LIMIT 1) AS care_max
    FROM (SELECT DISTINCT period FROM months) m
),
decision AS (
    SELECT DISTINCT ON (b.customer_id, b.period) b.customer_id, b.period, d.care_monthly_amount
    FROM bounded b JOIN billing.fee_decisions d ON d.customer_id = b.customer_id
         AND d.valid_from <= b.last_day AND (d.valid_to IS NULL OR d.valid_to >= b.period)
         AND d.customer_id >= $3 AND d.customer_id < $4
    ORDER BY b.customer_id, b.period, d.valid_from DESC, d.created_at DESC
),
billed AS (
    SELECT l.customer_id, l.period, l.fee, sum(l.amount) AS amount
    FROM billing.invoice_lines l
    JOIN (SELECT DISTINCT customer_id, period FROM months) m
      ON m.customer_id = l.customer_id AND m.period = l.period
    WHERE l.customer_id >= $3 AND l.customer_id < $4
    GROUP BY l.customer_id, l.period, l.fee
),
-- materialized: the days (a subquery) are counted once per row, not once per use
fees AS MATERIALIZED (
    SELECT b.customer_id, b.invoice_kind, b.period, b.seq, f.fee,
           extract(day FROM b.last_day)::int AS month_days,
           -- LEAST skips NULLs: without a decision there must be no care fee at all
           CASE WHEN f.fee = 'food' THEN t.food
                WHEN d.customer_id IS NOT NULL
                THEN least(d.care_monthly_amount, t.care_max) END AS monthly,
           (SELECT coalesce(sum(upper(r) - lower(r)), 0)::int
            FROM unnest(coalesce(s.days, '{}'::datemultirange)
                        - coalesce(CASE f.fee WHEN 'food' THEN a.food ELSE a.care END,
                                   '{}'::datemultirange)) r) AS days,
           s.days IS NOT NULL AND NOT isempty(s.days) AS stayed,
           d.customer_id IS NOT NULL AS has_decision,
           a.long_absences
    FROM bounded b
    CROSS JOIN (VALUES ('food'), ('care')) f (fee)
    JOIN tariff t ON t.period = b.period
    LEFT JOIN stayed s ON s.customer_id = b.customer_id AND s.period = b.period
    LEFT JOIN absent a ON a.customer_id = b.customer_id AND a.period = b.period
    LEFT JOIN decision d ON d.customer_id = b.customer_id AND d.period = b.period
),
due AS MATERIALIZED (
    SELECT fees.*,
           CASE WHEN monthly IS NULL THEN NULL
                WHEN NOT stayed OR month_days - days >= $7 THEN 0
                ELSE (monthly * ($7 - (month_days - days)) * 2 + $7) / ($7 * 2) END AS due
    FROM fees
)
SELECT due.*, coalesce(bl.amount, 0) AS billed_before,
       due.due - coalesce(bl.amount, 0) AS amount,
       due.due IS NOT NULL AND (due.period = $1 OR due.due <> coalesce(bl.amount, 0)) AS keep
FROM due
LEFT JOIN billed bl ON bl.customer_id = due.customer_id AND bl.period = due.period
                   AND bl.fee = due.fee
"""

# The invoices of the batch: one per customer, held with the reasons why (regular only).
_BILL_INVOICES = """
CREATE TEMP TABLE bill_invoices ON COMMIT DROP AS
WITH per_customer AS (
    SELECT customer_id, invoice_kind,
           coalesce(sum(amount) FILTER (WHERE keep), 0) AS total,
           invoice_kind = 'regular'
               AND NOT bool_or(has_decision) FILTER (WHERE period = $1) AS no_decision,
           max(long_absences) FILTER (WHERE period = $1 AND invoice_kind = 'regular')
               AS long_absences
    FROM bill_lines GROUP BY customer_id, invoice_kind
    HAVING count(*) FILTER (WHERE keep) > 0
),
decided AS (
    SELECT p.*, c.customer_number,
           array_remove(ARRAY[CASE WHEN p.no_decision THEN 'no_fee_decision' END,
                              CASE WHEN p.long_absences IS NOT NULL THEN 'long_absence' END],
                        NULL) AS hold_reasons
    FROM per_customer p JOIN billing.customers c ON c.id = p.customer_id
)
SELECT gen_random_uuid() AS id, customer_id, customer_number, invoice_kind, total,
       hold_reasons,
       nullif(concat_ws('; ',
           CASE WHEN no_decision THEN 'inget avgiftsbeslut för ' || to_char($1, 'YYYY-MM') END,
           CASE WHEN long_absences IS NOT NULL
                THEN 'frånvaro över 30 dagar: ' || long_absences END), '') AS hold_note,
       CASE WHEN cardinality(hold_reasons) = 0 THEN 'issued' ELSE 'held' END AS status,
       row_number() OVER (PARTITION BY cardinality(hold_reasons) = 0
                          ORDER BY customer_number, invoice_kind) AS rn
FROM decided
"""


async def bill_batch(
    conn: asyncpg.Connection,
    *,
    run_id: uuid.UUID,
    period: Period,
    lo: uuid.UUID | None,
    hi: uuid.UUID | None,
    care_reasons: list[str],
    long_absence_days: int,
    days_per_month: int,
    issued_on: date,
    events: InvoiceEvents,
) -> Row:
    """Invoice every customer of the batch not yet invoiced for the month, with corrections
    of earlier months; number the issued invoices; consume the rechecks; write each
    invoice's event (and the fee administrators' notice of a held one) and audit row.

    Returns how many invoices were issued, held and corrections, with their total.

    The batch is the customers with `lo <= id < hi`; None is an open end.
    """
    # Every table is read by the batch's id range (or its customers), through its index on
    # customer_id, for the rest of the batch's transaction. The planner must not think
    # otherwise: the invoices of the run grow faster than their
    # statistics (a first run starts from none), and with a table believed empty it scans
    # all of it for each customer. Plan for this batch's range (not a generic plan of the
    # prepared statement); skip compiling the plan (JIT) and parallel workers, which cost
    # more than a batch (the run bills batches side by side instead).
    await conn.execute(
        "SET LOCAL enable_seqscan = off; SET LOCAL plan_cache_mode = force_custom_plan; "
        "SET LOCAL jit = off; SET LOCAL max_parallel_workers_per_gather = 0"
    )
    await conn.execute(
        _BILL_LINES,
        period.first_day,
        period.last_day,
        lo or FIRST_ID,
        hi or PAST_LAST_ID,
        care_reasons,
        long_absence_days,
        days_per_month,
    )
    await conn.execute(_BILL_INVOICES, period.first_day)
    await conn.execute(
        """INSERT INTO billing.invoice_lines
               (invoice_id, line_no, customer_id, fee, correction, period, days,
                monthly_amount, due, billed_before, amount)
           SELECT i.id,
                  row_number() OVER (PARTITION BY i.id
                                     ORDER BY l.period = $1 DESC, l.period, l.fee DESC),
                  l.customer_id, l.fee, l.period <> $1, l.period, l.days, l.monthly, l.due,
                  l.billed_before, l.amount
           FROM bill_lines l JOIN bill_invoices i
             ON i.customer_id = l.customer_id AND i.invoice_kind = l.invoice_kind
           WHERE l.keep""",
        period.first_day,
    )
    await conn.execute(
        """DELETE FROM billing.rechecks r
           USING (SELECT DISTINCT customer_id, period, seq FROM bill_lines
                  WHERE seq IS NOT NULL) c
           WHERE r.customer_id = c.customer_id AND r.period = c.period AND r.seq = c.seq"""
    )
    # the run (request id: its id; actor: who asked for it, or `schedule`) changed each
    # customer's bills: one audit row per invoice
    await conn.execute(
        """INSERT INTO billing.audit
               (request_id, actor_sub, actor_role, actor_unit, action, customer_id, resource)
           SELECT r.id::text, r.requested_by, 'billing_run', NULL,
                  CASE b.status WHEN 'held' THEN 'invoice.hold' ELSE 'invoice.issue' END,
                  b.customer_id, 'invoice:' || b.id
           FROM bill_invoices b JOIN billing.billing_runs r ON r.id = $1""",
        run_id,
    )
    # numbers last: the year's counter is locked from here to the commit, and batches that
    # run side by side wait for each other only while the invoices and their events are
    # written (what needs no number is written above)
    issued = await conn.fetchval("SELECT count(*) FROM bill_invoices WHERE status = 'issued'")
    base = 0
    if issued:
        base = await conn.fetchval(
            """INSERT INTO billing.invoice_numbers AS n (year, last) VALUES ($1, $2)
               ON CONFLICT (year) DO UPDATE SET last = n.last + EXCLUDED.last
               RETURNING last - $2""",
            issued_on.year,
            issued,
        )
    await conn.execute(
        _STORE_BATCH_INVOICES,
        events.issued,
        events.held,
        events.notification,
        events.fee_admins,
        period.first_day,
        issued_on.year,
        base,
        issued_on,
        run_id,
    )
    totals = await conn.fetchrow(
        """SELECT count(*) FILTER (WHERE status = 'issued') AS issued,
                  count(*) FILTER (WHERE status = 'held') AS held,
                  count(*) FILTER (WHERE invoice_kind = 'correction') AS correction_invoices,
                  coalesce(sum(total), 0)::bigint AS total
           FROM bill_invoices"""
    )
    await conn.execute("DROP TABLE bill_lines, bill_invoices")  # a next batch in this transaction
    return dict(totals)


def _invoice_events_sql(invoices: str) -> str:
    """The statement that writes `invoice.issued`/`invoice.held` for each of `invoices` (a
    query, or an INSERT … RETURNING, of `_EVENT_COLUMNS`), names the stays each issued one
    ends, and tells the fee administrators why each held one waits. $1/$2 the issued/held
    event types, $3 notification.requested, $4 whom; the invoices' own parameters after."""
    return f"""WITH inv AS ({invoices}),
    told AS (
        UPDATE billing.stays s SET final_invoice_id = inv.id FROM inv
        WHERE inv.status = 'issued' AND s.customer_id = inv.customer_id
          AND s.final_invoice_id IS NULL
          AND s.end_date < (inv.period + interval '1 month')::date
        RETURNING inv.id AS invoice_id, s.order_id),
    finals AS (
        SELECT invoice_id, jsonb_agg(order_id ORDER BY order_id) AS order_ids
        FROM told GROUP BY invoice_id),
    invoice_events AS (
        INSERT INTO billing.outbox (id, type, data)
        SELECT gen_random_uuid(),
               CASE inv.status WHEN 'issued' THEN $1 ELSE $2 END,
               jsonb_build_object(
                   'invoice_id', inv.id, 'number', inv.number,
                   'customer_id', inv.customer_id,
                   'customer_number', inv.customer_number,
                   'period', to_char(inv.period, 'YYYY-MM'), 'kind', inv.kind,
                   'status', inv.status, 'total', {_KRONOR.format("inv.total")},
                   'hold_reasons', to_jsonb(inv.hold_reasons),
                   'final_order_ids', coalesce(f.order_ids, '[]'::jsonb))
        FROM inv LEFT JOIN finals f ON f.invoice_id = inv.id
        ORDER BY inv.number_seq NULLS LAST, inv.customer_number)
    INSERT INTO billing.outbox (id, type, data)
    SELECT gen_random_uuid(), $3, jsonb_build_object(
               'to', jsonb_build_array($4::text),
               'subject', 'Faktura hålls för granskning: kund ' || inv.customer_number
                          || ', ' || to_char(inv.period, 'YYYY-MM'),
               'body', 'Fakturan för kund ' || inv.customer_number || ' för '
                       || to_char(inv.period, 'YYYY-MM') || ' hålls: '
                       || inv.hold_note || '. Granska den och släpp den '
                       || '(POST /invoices/' || inv.id || '/release).',
               'kind', 'invoice.held', 'customer_id', inv.customer_id,
               'customer_number', inv.customer_number)
    FROM inv WHERE inv.status = 'held'"""


# what the event statement reads of each invoice (as `i`)
_EVENT_COLUMNS = f"""i.id, i.customer_id, i.customer_number, i.period, i.kind, i.status, i.total,
    i.hold_reasons, i.hold_note, i.number_seq, {_NUMBER} AS number"""

# the stored invoices $5
_EMIT_EVENTS = _invoice_events_sql(
    f"SELECT {_EVENT_COLUMNS} FROM billing.invoices i WHERE i.id = ANY($5::uuid[])"
)

# a batch's invoices, stored as they are numbered and announced in one statement, so nothing
# is read back: bill_invoices in the month $5, numbered in the year $6 after the number $7,
# issued on $8, by the run $9
_STORE_BATCH_INVOICES = _invoice_events_sql(
    f"""INSERT INTO billing.invoices AS i
            (id, customer_id, customer_number, period, kind, status, number_year,
             number_seq, issued_on, hold_reasons, hold_note, total, run_id)
        SELECT id, customer_id, customer_number, $5, invoice_kind, status,
               CASE WHEN status = 'issued' THEN $6::int END,
               CASE WHEN status = 'issued' THEN $7 + rn END,
               CASE WHEN status = 'issued' THEN $8::date END,
               hold_reasons, hold_note, total, $9
        FROM bill_invoices ORDER BY status, rn
        RETURNING {_EVENT_COLUMNS}"""
)


def routing_key_sql(*, issued_type: str, final_route: str) -> str:
    """The routing key of an outbox row, as the relay selects it: `final_route` for an issued
    invoice that names the orders whose stay it ends, the type otherwise (a held invoice
    ends nothing until it is released and issued)."""
    return f"""CASE WHEN type = '{issued_type}'
                     AND coalesce(data -> 'final_order_ids', '[]'::jsonb) <> '[]'::jsonb
                THEN '{final_route}' ELSE type END"""


async def emit_invoice_events(
    conn: asyncpg.Connection, *, invoice_ids: list[uuid.UUID], events: InvoiceEvents
) -> None:
    """Publish `invoice.issued` or `invoice.held` for each invoice, and tell the fee
    administrators why each held one waits.

    An issued invoice names the orders whose stay has ended and whose last month it covers
    (`final_order_ids`): their lifecycles may complete. Each stay is named once.
    """
    await conn.execute(
        _EMIT_EVENTS,
        events.issued,
        events.held,
        events.notification,
        events.fee_admins,
        invoice_ids,
    )
