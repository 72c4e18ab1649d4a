"""The billing run's set-based SQL: a batch of customers billed in a handful of statements,
whatever the batch's size, never a query per customer. Functions never commit: the caller
(services/billing/service.py) owns the transaction.

The texts of the hold notes are services.billing.texts', the events' data
services.billing.events'; this module only puts them into its statements.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date

import asyncpg

from services.billing import events, texts
from services.billing.domain import Period
from services.common.rows import Row


@dataclasses.dataclass(frozen=True, slots=True)
class BatchTotals(Row):
    """What a batch (or a run) invoiced: issued, held and correction invoices, and their
    total in öre."""

    issued: int = 0
    held: int = 0
    correction_invoices: int = 0
    total: int = 0
    uncorrected: int = 0  # customer-months older than the correction window, left as billed


# the texts of a hold note, as SQL over `a` (an absence), `x.length` (its whole days),
# $1 (the month), `no_decision` and `long_absences` (bill_invoices' columns)
_LONG_ABSENCE_ITEM = texts.sql(
    texts.LONG_ABSENCE_ITEM,
    from_date="a.from_date::text",
    to_date=f"coalesce(a.to_date::text, {texts.literal(texts.STILL_ABSENT)})",
    days="x.length",
    so_far=f"CASE WHEN a.to_date IS NULL THEN {texts.literal(texts.SO_FAR)} ELSE '' END",
)
_ITEM_SEPARATOR = texts.literal(texts.ITEM_SEPARATOR)
_NOTE_SEPARATOR = texts.literal(texts.NOTE_SEPARATOR)
_NO_FEE_DECISION = texts.sql(texts.NO_FEE_DECISION, period="to_char($1, 'YYYY-MM')")
_LONG_ABSENCE = texts.sql(texts.LONG_ABSENCE, absences="long_absences")

# A new invoice's or event's id, ordered by time (the layout of a UUIDv7: the milliseconds
# since 1970 in its first 48 bits, then version 7 and gen_random_uuid's random bits). A run
# of a million invoices writes a million ids into each of the invoices', the lines' and the
# outbox's unique indexes: random ids put every one of them on a page of its own, all over
# indexes larger than the server's buffers, so each batch read and dirtied thousands of
# pages more the further the run went; ids in time order go to the right edge of each.
_NEW_ID = (
    "(lpad(to_hex(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint), 12, '0')"
    " || '7' || substr(gen_random_uuid()::text, 16))::uuid"
)

_NUMBER = "(i.number_year::text || '-' || lpad(i.number_seq::text, 6, '0'))"


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
# 0 for a month without a day of stay (domain.month_fees). A month before $8 (the run's
# correction window, domain.correction_window_start) is never corrected: its line is not
# kept but marked `too_old`, for bill_batch to report.
_BILL_LINES = f"""
CREATE TEMP TABLE bill_lines ON COMMIT DROP AS
WITH
regular AS (
    SELECT DISTINCT s.customer_id FROM billing.stays s
    WHERE s.customer_id >= $3 AND s.customer_id < $4
      AND s.start_date <= $2 AND (s.end_date IS NULL OR s.end_date >= $1)
      AND EXISTS (SELECT 1 FROM billing.customers c WHERE c.id = s.customer_id
                  AND c.id >= $3 AND c.id < $4)
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
    WHERE EXISTS (SELECT 1 FROM billing.customers c WHERE c.id = p.customer_id
                  AND c.id >= $3 AND c.id < $4)
      AND NOT EXISTS (SELECT 1 FROM billing.stays s WHERE s.customer_id = p.customer_id
                      AND s.customer_id >= $3 AND s.customer_id < $4
                      AND s.start_date <= $2 AND (s.end_date IS NULL OR s.end_date >= $1))
      AND NOT EXISTS (SELECT 1 FROM billing.invoices i WHERE i.customer_id = p.customer_id
                      AND i.customer_id >= $3 AND i.customer_id < $4
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
           string_agg({_LONG_ABSENCE_ITEM}, {_ITEM_SEPARATOR} ORDER BY a.from_date)
               FILTER (WHERE x.length > $6) AS long_absences
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
            FROM unnest(coalesce(s.days, '{{}}'::datemultirange)
                        - coalesce(CASE f.fee WHEN 'food' THEN a.food ELSE a.care END,
                                   '{{}}'::datemultirange)) r) AS days,
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
       due.period < $8 AS too_old,
       due.due IS NOT NULL AND (due.period = $1
                                OR (due.period >= $8 AND due.due <> coalesce(bl.amount, 0)))
           AS keep
FROM due
LEFT JOIN billed bl ON bl.customer_id = due.customer_id AND bl.period = due.period
                   AND bl.fee = due.fee
"""

# The invoices of the batch: one per customer, held with the reasons why (regular only).
_BILL_INVOICES = f"""
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
SELECT {_NEW_ID} AS id, customer_id, customer_number, invoice_kind, total,
       hold_reasons,
       nullif(concat_ws({_NOTE_SEPARATOR},
           CASE WHEN no_decision THEN {_NO_FEE_DECISION} END,
           CASE WHEN long_absences IS NOT NULL THEN {_LONG_ABSENCE} END), '') AS hold_note,
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
    correct_from: date,
) -> BatchTotals:
    """Invoice every customer of the batch not yet invoiced for the month, with corrections
    of earlier months from `correct_from` on; number the issued invoices; consume the
    rechecks; write each invoice's event (and the fee administrators' notice of a held one)
    and audit row. A month before `correct_from` whose fees changed is not corrected: it is
    recorded on the run (billing.uncorrected) and the fee administrators are told, one
    notice per customer.

    Returns how many invoices were issued, held and corrections, with their total, and how
    many customer-months were left uncorrected.

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
    # The lines' statement reads each table by the batch's id range. Below one bucket of a
    # column's histogram (a batch of 5 000 of a million customers is half of one of its 100)
    # the planner cannot place a uuid range in the bucket (uuid has no scalar position) and
    # believes it holds one row: it then joins the batch's 5 000 months to 5 000 stays,
    # absences and fee decisions row by row, 25 million comparisons each, 40 s for one batch
    # (bench/README.md, issue 16). Hash and merge joins cost what the batch holds whatever
    # the estimate, and every table here is read by the range, so no join needs a loop.
    await conn.execute("SET LOCAL enable_nestloop = off")
    await conn.execute(
        _BILL_LINES,
        period.first_day,
        period.last_day,
        lo or FIRST_ID,
        hi or PAST_LAST_ID,
        care_reasons,
        long_absence_days,
        days_per_month,
        correct_from,
    )
    # the rest of the batch reads its temporary tables, and the big ones by the customers
    # in them: an index lookup per row is what it needs
    await conn.execute("SET LOCAL enable_nestloop = on")
    await conn.execute(_BILL_INVOICES, period.first_day)
    uncorrected = await conn.fetchval(_STORE_UNCORRECTED, run_id, period.first_day, correct_from)
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
    # the rechecks consumed, locked in the order a fee decision or an event writes them
    # (repository.mark_rechecks: by customer, oldest month first), so a change of the same
    # customer meanwhile waits for this batch, or this batch for it, never both
    await conn.execute(
        """DELETE FROM billing.rechecks r
           USING (SELECT r.customer_id, r.period FROM billing.rechecks r
                  JOIN (SELECT DISTINCT customer_id, period, seq FROM bill_lines
                        WHERE seq IS NOT NULL) c
                    ON r.customer_id = c.customer_id AND r.period = c.period AND r.seq = c.seq
                  ORDER BY r.customer_id, r.period FOR UPDATE OF r) c
           WHERE r.customer_id = c.customer_id AND r.period = c.period"""
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
                  coalesce(sum(total), 0)::bigint AS total, $1::int AS uncorrected
           FROM bill_invoices""",
        uncorrected,
    )
    await conn.execute("DROP TABLE bill_lines, bill_invoices")  # a next batch in this transaction
    return BatchTotals.of(totals)


async def count_batch(
    conn: asyncpg.Connection, *, id: uuid.UUID, totals: BatchTotals, correct_from: date
) -> None:
    """Add a batch's invoices and uncorrected months to its run's counts, and note the
    first month the run corrects (last in the batch's transaction: the batches side by side
    wait for each other on the run's row only from here)."""
    await conn.execute(
        """UPDATE billing.billing_runs
              SET invoices = invoices + $2 + $3, issued = issued + $2, held = held + $3,
                  correction_invoices = correction_invoices + $4, total = total + $5,
                  uncorrected = uncorrected + $6, correct_from = $7
            WHERE id = $1""",
        id,
        totals.issued,
        totals.held,
        totals.correction_invoices,
        totals.total,
        totals.uncorrected,
        correct_from,
    )


def _invoice_events_sql(invoices: str) -> str:
    """The statement that writes `invoice.issued`/`invoice.held` for each of `invoices` (a
    query, or an INSERT … RETURNING, of `_EVENT_COLUMNS`), names the stays each issued one
    ends, and tells the fee administrators why each held one waits. The events' data is
    services.billing.events'; the parameters are the invoices' own."""
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
        SELECT {_NEW_ID}, {events.INVOICE_TYPE_SQL}, {events.INVOICE_DATA_SQL}
        FROM inv LEFT JOIN finals f ON f.invoice_id = inv.id
        ORDER BY inv.number_seq NULLS LAST, inv.customer_number)
    INSERT INTO billing.outbox (id, type, data)
    SELECT {_NEW_ID}, {events.NOTICE_TYPE_SQL}, {events.HELD_NOTICE_SQL}
    FROM inv WHERE inv.status = 'held'"""


# what the event statement reads of each invoice (as `i`)
_EVENT_COLUMNS = f"""i.id, i.customer_id, i.customer_number, i.period, i.kind, i.status, i.total,
    i.hold_reasons, i.hold_note, i.number_seq, {_NUMBER} AS number"""

# the stored invoices $1
_EMIT_EVENTS = _invoice_events_sql(
    f"SELECT {_EVENT_COLUMNS} FROM billing.invoices i WHERE i.id = ANY($1::uuid[])"
)

# a batch's invoices, stored as they are numbered and announced in one statement, so nothing
# is read back: bill_invoices in the month $1, numbered in the year $2 after the number $3,
# issued on $4, by the run $5
_STORE_BATCH_INVOICES = _invoice_events_sql(
    f"""INSERT INTO billing.invoices AS i
            (id, customer_id, customer_number, period, kind, status, number_year,
             number_seq, issued_on, hold_reasons, hold_note, total, run_id)
        SELECT id, customer_id, customer_number, $1, invoice_kind, status,
               CASE WHEN status = 'issued' THEN $2::int END,
               CASE WHEN status = 'issued' THEN $3 + rn END,
               CASE WHEN status = 'issued' THEN $4::date END,
               hold_reasons, hold_note, total, $5
        FROM bill_invoices ORDER BY status, rn
        RETURNING {_EVENT_COLUMNS}"""
)


# The months of bill_lines before the window $3 whose fees changed, kept for the run $1 (the
# month $2), and one notice per customer to the fee administrators; returns how many
# customer-months were left uncorrected.
_STORE_UNCORRECTED = f"""WITH stored AS (
        INSERT INTO billing.uncorrected
            (run_id, customer_id, customer_number, period, fee, due, billed_before, difference)
        SELECT $1, l.customer_id, c.customer_number, l.period, l.fee, l.due, l.billed_before,
               l.amount
        FROM bill_lines l JOIN billing.customers c ON c.id = l.customer_id
        WHERE l.too_old AND l.due IS NOT NULL AND l.amount <> 0
        RETURNING *),
    notices AS (
        INSERT INTO billing.outbox (id, type, data)
        SELECT {_NEW_ID}, {events.NOTICE_TYPE_SQL}, {events.UNCORRECTED_NOTICE_SQL}
        FROM (SELECT x.customer_id, x.customer_number,
                     string_agg({events.UNCORRECTED_ITEM_SQL}, {_NOTE_SEPARATOR}
                                ORDER BY x.period, x.fee DESC) AS items
              FROM stored x GROUP BY x.customer_id, x.customer_number) u
        ORDER BY u.customer_number)
    SELECT count(DISTINCT (customer_id, period))::int FROM stored"""


async def emit_invoice_events(conn: asyncpg.Connection, *, invoice_ids: list[uuid.UUID]) -> None:
    """Publish `invoice.issued` or `invoice.held` for each invoice, and tell the fee
    administrators why each held one waits.

    An issued invoice names the orders whose stay has ended and whose last month it covers
    (`final_order_ids`): their lifecycles may complete. Each stay is named once.
    """
    if invoice_ids:
        await conn.execute(_EMIT_EVENTS, invoice_ids)
