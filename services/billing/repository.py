"""The billing service's CRUD: its read model, tariffs, fee decisions, runs and invoices.
Functions never commit: the caller owns the transaction. They return typed rows.

The billing run's set-based SQL is in services/billing/engine.py.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date, datetime
from typing import Any

import asyncpg

from services.billing.domain import Period
from services.common.rows import Row


@dataclasses.dataclass(frozen=True, slots=True)
class KnownAbsence(Row):
    """An absence event applied: the first day known before it (None for a new one)."""

    from_date: date | None


@dataclasses.dataclass(frozen=True, slots=True)
class TariffRow(Row):
    kind: str
    monthly_amount: int  # öre
    valid_from: date


@dataclasses.dataclass(frozen=True, slots=True)
class TariffsInForce(Row):
    """The food tariff and the maxtaxa of a month (None where there is none)."""

    food: int | None
    care_max: int | None


@dataclasses.dataclass(frozen=True, slots=True)
class FeeDecisionRow(Row):
    id: uuid.UUID
    customer_id: uuid.UUID
    care_monthly_amount: int  # öre
    valid_from: date
    valid_to: date | None
    created_at: datetime


@dataclasses.dataclass(frozen=True, slots=True)
class RunRow(Row):
    id: uuid.UUID
    period: date  # the month's first day
    workflow_id: str
    status: str
    requested_by: str
    started_at: datetime
    completed_at: datetime | None
    error: str | None
    invoices: int
    issued: int
    held: int
    correction_invoices: int
    total: int  # öre
    correct_from: date | None  # the first month it corrects (None until a batch is billed)
    uncorrected: int  # customer-months before correct_from it left as billed


@dataclasses.dataclass(frozen=True, slots=True)
class UncorrectedRow(Row):
    """A month and fee of a customer that a run did not correct: it lies before the run's
    correction window."""

    customer_id: uuid.UUID
    customer_number: str
    period: date  # the month not corrected
    fee: str
    due: int  # what the rules give for it today, öre
    billed_before: int
    difference: int  # due - billed_before: what a correction would have been


@dataclasses.dataclass(frozen=True, slots=True)
class InvoiceRow(Row):
    id: uuid.UUID
    customer_id: uuid.UUID
    customer_number: str
    period: date  # the month's first day
    kind: str
    status: str
    number_year: int | None
    number_seq: int | None
    issued_on: date | None
    hold_reasons: list[str]
    hold_note: str | None
    total: int  # öre
    run_id: uuid.UUID | None
    created_at: datetime
    released_by: str | None
    released_at: datetime | None


@dataclasses.dataclass(frozen=True, slots=True)
class LineRow(Row):
    invoice_id: uuid.UUID
    line_no: int
    fee: str
    correction: bool
    period: date  # the month the line bills
    days: int
    monthly_amount: int
    due: int
    billed_before: int
    amount: int


@dataclasses.dataclass(frozen=True, slots=True)
class ExportRow(Row):
    """One line of an issued invoice, with its invoice, as the CSV export writes it."""

    id: uuid.UUID  # the invoice's
    customer_id: uuid.UUID
    customer_number: str
    number_year: int | None
    number_seq: int | None
    issued_on: date | None
    total: int  # the invoice's
    fee: str
    correction: bool
    period: date  # the line's month
    days: int
    amount: int


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
) -> KnownAbsence | None:
    """Apply an absence event unless a newer revision is known (None: not applied)."""
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
    return KnownAbsence(from_date=before["from_date"] if before else None)


async def mark_rechecks(conn: asyncpg.Connection, *, customer_id: uuid.UUID, since: date) -> None:
    """A fact of the customer from `since` on changed: check again every month from then
    that a billing run has reached, on the customer's next invoice.

    The months are written oldest first, the order in which a billing run's batch locks
    them (engine.bill_batch), so the two never wait for each other in a circle."""
    await conn.execute(
        """INSERT INTO billing.rechecks (customer_id, period)
           SELECT $1::uuid, period FROM billing.billing_runs
           WHERE period >= date_trunc('month', $2::date)::date
           GROUP BY period ORDER BY period
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


async def list_tariffs(conn: asyncpg.Connection) -> list[TariffRow]:
    records = await conn.fetch(
        "SELECT kind, monthly_amount, valid_from FROM billing.tariffs ORDER BY kind, valid_from"
    )
    return TariffRow.many(records)


async def put_tariffs(
    conn: asyncpg.Connection, *, tariffs: list[TariffRow], updated_by: str
) -> None:
    """Set each tariff (kind, valid_from) to its monthly amount."""
    await conn.execute(
        """INSERT INTO billing.tariffs (kind, valid_from, monthly_amount, updated_by)
           SELECT t.kind, t.valid_from, t.amount, $4
           FROM unnest($1::text[], $2::date[], $3::bigint[]) AS t (kind, valid_from, amount)
           ON CONFLICT (kind, valid_from) DO UPDATE
              SET monthly_amount = EXCLUDED.monthly_amount,
                  updated_by = EXCLUDED.updated_by, updated_at = now()""",
        [t.kind for t in tariffs],
        [t.valid_from for t in tariffs],
        [t.monthly_amount for t in tariffs],
        updated_by,
    )


async def last_billed_period(conn: asyncpg.Connection) -> date | None:
    """The latest month any invoice was made for."""
    return await conn.fetchval("SELECT max(period) FROM billing.invoices")


async def tariffs_in_force(conn: asyncpg.Connection, *, period: Period) -> TariffsInForce:
    """The food tariff and the maxtaxa of a month (None where there is none)."""
    record = await conn.fetchrow(
        """SELECT
             (SELECT monthly_amount FROM billing.tariffs WHERE kind = 'food' AND valid_from <= $1
              ORDER BY valid_from DESC LIMIT 1) AS food,
             (SELECT monthly_amount FROM billing.tariffs WHERE kind = 'care_max'
              AND valid_from <= $1 ORDER BY valid_from DESC LIMIT 1) AS care_max""",
        period.first_day,
    )
    return TariffsInForce.of(record)


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
) -> FeeDecisionRow:
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
    return FeeDecisionRow.of(record)


async def list_fee_decisions(
    conn: asyncpg.Connection,
    *,
    customer_id: uuid.UUID | None,
    limit: int,
    after: tuple[Any, ...] | None = None,
) -> list[FeeDecisionRow]:
    """Fee decisions by customer and first month; `after` a sort key (customer, valid_from,
    created_at, id), the page after it."""
    customer, valid_from, created_at, id = after or (None, None, None, None)
    records = await conn.fetch(
        f"""SELECT {_DECISION_COLUMNS} FROM billing.fee_decisions
            WHERE ($1::uuid IS NULL OR customer_id = $1)
              AND ($3::uuid IS NULL OR (customer_id, valid_from, created_at, id)
                                       > ($3, $4::date, $5::timestamptz, $6::uuid))
            ORDER BY customer_id, valid_from, created_at, id LIMIT $2""",
        customer_id,
        limit,
        customer,
        valid_from,
        created_at,
        id,
    )
    return FeeDecisionRow.many(records)


# --- billing runs ----------------------------------------------------------------------------

_RUN_COLUMNS = """
    r.id, r.period, r.workflow_id, r.status, r.requested_by, r.started_at, r.completed_at,
    r.error, r.invoices, r.issued, r.held, r.correction_invoices, r.total, r.correct_from,
    r.uncorrected
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


async def delete_run(conn: asyncpg.Connection, *, id: uuid.UUID) -> None:
    """Forget a run whose workflow never started."""
    await conn.execute("DELETE FROM billing.billing_runs WHERE id = $1", id)


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


async def get_run(conn: asyncpg.Connection, *, id: uuid.UUID) -> RunRow | None:
    return RunRow.maybe(
        await conn.fetchrow(
            f"""SELECT {_RUN_COLUMNS} FROM billing.billing_runs r WHERE r.id = $1""",
            id,
        )
    )


async def list_runs(
    conn: asyncpg.Connection,
    *,
    period: Period | None,
    limit: int,
    offset: int,
    before: tuple[Any, ...] | None = None,
) -> list[RunRow]:
    """Runs, newest first (of one month, if given); `before` a run's (started_at, id), the
    runs after it in that order."""
    started_at, id = before or (None, None)
    records = await conn.fetch(
        f"""SELECT {_RUN_COLUMNS} FROM billing.billing_runs r
            WHERE ($1::date IS NULL OR r.period = $1)
              AND ($4::timestamptz IS NULL OR (r.started_at, r.id) < ($4, $5::uuid))
            ORDER BY r.started_at DESC, r.id DESC LIMIT $2 OFFSET $3""",
        period.first_day if period else None,
        limit,
        offset,
        started_at,
        id,
    )
    return RunRow.many(records)


async def count_runs(conn: asyncpg.Connection, *, period: Period | None) -> int:
    """How many runs match (of which list_runs gives one page)."""
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM billing.billing_runs WHERE $1::date IS NULL OR period = $1",
            period.first_day if period else None,
        )
    )


_UNCORRECTED_COLUMNS = (
    "u.customer_id, u.customer_number, u.period, u.fee, u.due, u.billed_before, u.difference"
)


async def list_uncorrected(
    conn: asyncpg.Connection,
    *,
    run_id: uuid.UUID,
    limit: int,
    offset: int,
    after: tuple[Any, ...] | None = None,
) -> list[UncorrectedRow]:
    """The months a run left uncorrected, by customer number, month and fee; `after` a sort
    key (customer_number, customer_id, period, fee), the page after it."""
    number, customer, period, fee = after or (None, None, None, None)
    records = await conn.fetch(
        f"""SELECT {_UNCORRECTED_COLUMNS} FROM billing.uncorrected u WHERE u.run_id = $1
              AND ($4::text IS NULL
                   OR (u.customer_number, u.customer_id, u.period)
                      > ($4, $5::uuid, $6::date)
                   OR ((u.customer_number, u.customer_id, u.period) = ($4, $5, $6)
                       AND u.fee < $7::text))
            ORDER BY u.customer_number, u.customer_id, u.period, u.fee DESC
            LIMIT $2 OFFSET $3""",
        run_id,
        limit,
        offset,
        number,
        customer,
        period,
        fee,
    )
    return UncorrectedRow.many(records)


async def count_uncorrected(conn: asyncpg.Connection, *, run_id: uuid.UUID) -> int:
    return int(
        await conn.fetchval("SELECT count(*) FROM billing.uncorrected WHERE run_id = $1", run_id)
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
    after: tuple[Any, ...] | None = None,
) -> list[InvoiceRow]:
    """Invoices, the latest month first, then by customer number, kind and id; `after` such
    a sort key, the page after it."""
    month, number, kind, id = after or (None, None, None, None)
    records = await conn.fetch(
        f"""SELECT {_INVOICE_COLUMNS} FROM billing.invoices i
            WHERE ($1::date IS NULL OR i.period = $1)
              AND ($2::uuid IS NULL OR i.customer_id = $2)
              AND ($3::text IS NULL OR i.status = $3)
              AND ($6::date IS NULL OR i.period < $6
                   OR (i.period = $6 AND (i.customer_number, i.kind, i.id)
                                         > ($7::text, $8::text, $9::uuid)))
            ORDER BY i.period DESC, i.customer_number, i.kind, i.id
            LIMIT $4 OFFSET $5""",
        period.first_day if period else None,
        customer_id,
        status,
        limit,
        offset,
        month,
        number,
        kind,
        id,
    )
    return InvoiceRow.many(records)


async def count_invoices(
    conn: asyncpg.Connection,
    *,
    period: Period | None,
    customer_id: uuid.UUID | None,
    status: str | None,
) -> int:
    """How many invoices match (of which list_invoices gives one page)."""
    return int(
        await conn.fetchval(
            """SELECT count(*) FROM billing.invoices i
               WHERE ($1::date IS NULL OR i.period = $1)
                 AND ($2::uuid IS NULL OR i.customer_id = $2)
                 AND ($3::text IS NULL OR i.status = $3)""",
            period.first_day if period else None,
            customer_id,
            status,
        )
    )


async def get_invoice(
    conn: asyncpg.Connection, *, id: uuid.UUID, lock: bool = False
) -> InvoiceRow | None:
    return InvoiceRow.maybe(
        await conn.fetchrow(
            f"SELECT {_INVOICE_COLUMNS} FROM billing.invoices i WHERE i.id = $1"
            + (" FOR UPDATE" if lock else ""),
            id,
        )
    )


async def invoice_lines(conn: asyncpg.Connection, *, invoice_ids: list[uuid.UUID]) -> list[LineRow]:
    records = await conn.fetch(
        f"""SELECT {_LINE_COLUMNS} FROM billing.invoice_lines l
            WHERE l.invoice_id = ANY($1::uuid[]) ORDER BY l.invoice_id, l.line_no""",
        invoice_ids,
    )
    return LineRow.many(records)


async def export_rows(conn: asyncpg.Connection, *, period: Period) -> list[ExportRow]:
    """Every line of the issued invoices of a month, with its invoice, for the CSV export."""
    records = await conn.fetch(
        """SELECT i.id, i.customer_id, i.customer_number, i.number_year, i.number_seq,
                  i.issued_on, i.total, l.fee, l.correction, l.period, l.days, l.amount
            FROM billing.invoices i JOIN billing.invoice_lines l ON l.invoice_id = i.id
            WHERE i.period = $1 AND i.status = 'issued'
            ORDER BY i.number_year, i.number_seq, l.line_no""",
        period.first_day,
    )
    return ExportRow.many(records)


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


async def held_for_long_absence(
    conn: asyncpg.Connection, *, customer_id: uuid.UUID, first_day: date, last_day: date
) -> list[date]:
    """The periods from `first_day`'s month through `last_day`'s whose invoice of the
    customer waits, held for a long absence (the order lifecycle's final count asks)."""
    records = await conn.fetch(
        """SELECT DISTINCT period FROM billing.invoices
            WHERE customer_id = $1 AND status = 'held'
              AND 'long_absence' = ANY (hold_reasons)
              AND period BETWEEN date_trunc('month', $2::date) AND $3
            ORDER BY period""",
        customer_id,
        first_day,
        last_day,
    )
    return [record["period"] for record in records]
