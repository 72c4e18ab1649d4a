"""The billing service's use cases: each owns its transaction, its audit row and its outbox
events. Routes (api.py) and activities (activities.py) call these; the rules are in
domain.py, the SQL in repository.py (CRUD) and engine.py (the billing run's batches)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

import asyncpg
from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError

from services.billing import domain, engine, repository
from services.billing.domain import Period
from services.billing.engine import BatchTotals
from services.billing.repository import (
    ExportRow,
    FeeDecisionRow,
    InvoiceRow,
    LineRow,
    RunRow,
    TariffRow,
    UncorrectedRow,
)
from services.common import audit
from services.common.auth import Principal
from services.common.dates import today_in_stockholm
from services.common.db import transaction
from services.common.errors import Conflict, Invalid, NotFound
from services.common.settings import Settings
from workflows import billing_client
from workflows.billing_models import billing_run_id

_audit = audit.AuditLog("billing")
# how long a new run waits for the workflow of a month's closed run to finish
PREVIOUS_RUN_WAIT = 10
# the correction window when none is given (services/common/settings.py says why)
DEFAULT_CORRECTION_MONTHS: int = Settings.model_fields["billing_correction_months"].default


# A change that loses a deadlock or a serialization conflict to a concurrent one (a billing
# run's batch, another request) is tried again from the start: it wrote nothing. One that
# keeps losing is a 409 that says so, never a 500.
LOST_RACE = (asyncpg.exceptions.DeadlockDetectedError, asyncpg.exceptions.SerializationError)
RACE_ATTEMPTS = 3
T = TypeVar("T")


async def _in_transaction(
    pool: asyncpg.Pool, work: Callable[[asyncpg.Connection], Awaitable[T]]
) -> T:
    """`work` in a transaction of its own, tried again while it loses a race."""
    for attempt in range(1, RACE_ATTEMPTS + 1):
        try:
            async with transaction(pool) as conn:
                return await work(conn)
        except LOST_RACE as exc:
            if attempt == RACE_ATTEMPTS:
                raise Conflict(
                    "a concurrent change of the same data got in the way of every try; "
                    "nothing was changed, try again",
                    code="concurrent_change",
                ) from exc
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class InvoiceWithLines:
    invoice: InvoiceRow
    lines: list[LineRow]


# --- tariffs ---------------------------------------------------------------------------------


async def list_tariffs(pool: asyncpg.Pool) -> list[TariffRow]:
    """The food tariffs and the maxtaxa, each from the month it applies."""
    async with pool.acquire() as conn:
        return await repository.list_tariffs(conn)


async def set_tariffs(
    pool: asyncpg.Pool, caller: Principal, *, tariffs: Sequence[TariffRow]
) -> list[TariffRow]:
    """Set tariffs from a month on, and return them all; a month already billed keeps its own."""
    keys = [(t.kind, t.valid_from) for t in tariffs]
    if len(set(keys)) != len(keys):
        raise Invalid("each kind and valid_from may come once", code="duplicate_tariff")
    for tariff in tariffs:
        domain.check_tariff_start(tariff.valid_from)
    async with transaction(pool) as conn:
        existing = {
            (t.kind, t.valid_from): t.monthly_amount for t in await repository.list_tariffs(conn)
        }
        billed = await repository.last_billed_period(conn)
        for tariff in tariffs:
            unchanged = existing.get((tariff.kind, tariff.valid_from)) == tariff.monthly_amount
            if billed is not None and tariff.valid_from <= billed and not unchanged:
                raise Conflict(
                    f"{Period.of(billed)} is billed already; a {tariff.kind} tariff from "
                    f"{tariff.valid_from} would change what was billed",
                    code="tariff_billed",
                )
        await repository.put_tariffs(conn, tariffs=list(tariffs), updated_by=caller.sub)
        return await repository.list_tariffs(conn)


# --- fee decisions ---------------------------------------------------------------------------


async def add_fee_decision(
    pool: asyncpg.Pool,
    caller: Principal,
    request_id: str,
    *,
    customer_id: uuid.UUID,
    care_monthly_amount: int,
    valid_from: date,
    valid_to: date | None,
) -> FeeDecisionRow:
    """Decide a customer's monthly care fee, at most the maxtaxa; months already invoiced
    are checked again, and the difference comes on the next invoice."""

    async def decide(conn: asyncpg.Connection) -> FeeDecisionRow:
        if not await repository.customer_exists(conn, id=customer_id):
            raise Invalid("customer_id names no customer billing knows", code="unknown_customer")
        domain.check_fee_decision(
            care_monthly=care_monthly_amount,
            valid_from=valid_from,
            valid_to=valid_to,
            care_max_by_start=await repository.care_max_by_start(conn),
        )
        row = await repository.insert_fee_decision(
            conn,
            id=uuid.uuid4(),
            customer_id=customer_id,
            care_monthly_amount=care_monthly_amount,
            valid_from=valid_from,
            valid_to=valid_to,
            created_by=caller.sub,
        )
        await repository.mark_rechecks(conn, customer_id=customer_id, since=valid_from)
        await _audit.customers(
            conn,
            caller,
            request_id,
            "fee_decision.create",
            f"fee_decision:{row.id}",
            [row.customer_id],
        )
        return row

    return await _in_transaction(pool, decide)


async def list_fee_decisions(
    pool: asyncpg.Pool,
    caller: Principal,
    request_id: str,
    *,
    customer_id: uuid.UUID | None,
    limit: int,
    after: tuple[Any, ...] | None = None,
) -> list[FeeDecisionRow]:
    """`limit` fee decisions after the sort key `after`, and the first of the next page
    when there is one (not audited: it is not shown)."""
    async with transaction(pool) as conn:
        rows = await repository.list_fee_decisions(
            conn, customer_id=customer_id, limit=limit + 1, after=after
        )
        await _audit.customers(
            conn,
            caller,
            request_id,
            "fee_decision.list",
            "fee_decisions",
            [r.customer_id for r in rows[:limit]],
        )
    return rows


# --- billing runs ----------------------------------------------------------------------------


async def open_run(
    conn: asyncpg.Connection,
    *,
    run_id: uuid.UUID,
    period: Period,
    workflow_id: str,
    requested_by: str,
) -> Invalid | None:
    """Record the run as running, in the caller's transaction; the refusal if the month
    cannot be billed (a missing tariff), for the caller to raise or to report."""
    tariffs = await repository.tariffs_in_force(conn, period=period)
    await repository.open_run(
        conn, id=run_id, period=period, workflow_id=workflow_id, requested_by=requested_by
    )
    try:
        domain.check_tariffs(period, food=tariffs.food, care_max=tariffs.care_max)
    except Invalid as exc:
        return exc
    return None


async def start_billing_run(
    pool: asyncpg.Pool, client: Client, caller: Principal, *, period: Period, task_queue: str
) -> RunRow:
    """Bill a month that has ended, now; safe to repeat.

    The run's row is committed first, then its workflow is started, never while a
    transaction is open; a start that fails takes the row away again.
    """
    domain.check_billable(period, today_in_stockholm())
    run_id, workflow_id = uuid.uuid4(), billing_run_id(period)
    async with transaction(pool) as conn:
        refusal = await open_run(
            conn, run_id=run_id, period=period, workflow_id=workflow_id, requested_by=caller.sub
        )
        if refusal is not None:
            raise refusal  # nothing is written
    try:
        await _start_workflow(
            pool,
            client,
            period=period,
            run_id=run_id,
            requested_by=caller.sub,
            task_queue=task_queue,
        )
    except BaseException:
        async with transaction(pool) as conn:
            await repository.delete_run(conn, id=run_id)
        raise
    return await get_run(pool, run_id)


async def _start_workflow(
    pool: asyncpg.Pool,
    client: Client,
    *,
    period: Period,
    run_id: uuid.UUID,
    requested_by: str,
    task_queue: str,
) -> None:
    """Start `billing-run-<period>`; 409 while another run of the month is at work.

    A run whose books are closed (GET says completed) may still be finishing its workflow
    for a moment: that one is waited for, then the new run starts.
    """
    for attempt in range(2):
        try:
            await billing_client.start_run(
                client,
                period=period,
                run_id=run_id,
                requested_by=requested_by,
                task_queue=task_queue,
            )
            return
        except WorkflowAlreadyStartedError as exc:
            async with pool.acquire() as conn:
                closed = await repository.previous_run_closed(
                    conn, workflow_id=billing_run_id(period), excluding=run_id
                )
            if attempt or not closed:
                raise Conflict(
                    f"a billing run for {period} is running already", code="run_in_progress"
                ) from exc
            await billing_client.wait_for_run(client, period=period, at_most=PREVIOUS_RUN_WAIT)


async def get_run(pool: asyncpg.Pool, run_id: uuid.UUID) -> RunRow:
    """A run's status, and the counts and total of the invoices it made."""
    async with pool.acquire() as conn:
        row = await repository.get_run(conn, id=run_id)
    if row is None:
        raise NotFound("no such billing run", code="billing_run_not_found")
    return row


async def list_runs(
    pool: asyncpg.Pool,
    *,
    period: Period | None,
    limit: int,
    offset: int,
    before: tuple[Any, ...] | None = None,
) -> tuple[list[RunRow], int]:
    """One page of runs, newest first (and the first of the next page, when there is one),
    and how many there are in all."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
        rows = await repository.list_runs(
            conn, period=period, limit=limit + 1, offset=offset, before=before
        )
        return rows, await repository.count_runs(conn, period=period)


async def list_uncorrected(
    pool: asyncpg.Pool,
    caller: Principal,
    request_id: str,
    run_id: uuid.UUID,
    *,
    limit: int,
    offset: int,
    after: tuple[Any, ...] | None = None,
) -> tuple[list[UncorrectedRow], int]:
    """One page of the months a run did not correct because they lie before its window
    (and the first of the next page, not audited), and how many there are in all."""
    async with transaction(pool) as conn:
        if await repository.get_run(conn, id=run_id) is None:
            raise NotFound("no such billing run", code="billing_run_not_found")
        rows = await repository.list_uncorrected(
            conn, run_id=run_id, limit=limit + 1, offset=offset, after=after
        )
        total = await repository.count_uncorrected(conn, run_id=run_id)
        await _audit.customers(
            conn,
            caller,
            request_id,
            "billing_run.uncorrected",
            f"billing_run:{run_id}",
            [r.customer_id for r in rows[:limit]],
        )
    return rows, total


async def plan(
    pool: asyncpg.Pool, *, period: Period, batch_size: int
) -> tuple[int, list[uuid.UUID]]:
    """How many customers the month has to bill, and the first id of each batch but the first."""
    async with pool.acquire() as conn:
        return await engine.plan_batches(conn, period=period, batch_size=batch_size)


async def bill_batch(
    pool: asyncpg.Pool,
    *,
    run_id: uuid.UUID,
    period: Period,
    lo: uuid.UUID | None,
    hi: uuid.UUID | None,
    issued_on: date,
    care_reasons: Sequence[str],
    correction_months: int = DEFAULT_CORRECTION_MONTHS,
) -> BatchTotals:
    """Invoice one batch in one transaction, with its events and audit rows, and count it
    on its run; a retry bills nobody twice. Earlier months are corrected back to
    `correction_months` before the month; older ones are reported, not corrected."""
    correct_from = domain.correction_window_start(period, correction_months).first_day
    async with transaction(pool) as conn:
        totals = await engine.bill_batch(
            conn,
            run_id=run_id,
            period=period,
            lo=lo,
            hi=hi,
            care_reasons=list(care_reasons),
            long_absence_days=domain.LONG_ABSENCE_DAYS,
            days_per_month=domain.DAYS_PER_MONTH,
            issued_on=issued_on,
            correct_from=correct_from,
        )
        await engine.count_batch(conn, id=run_id, totals=totals, correct_from=correct_from)
    return totals


async def close_run(
    pool: asyncpg.Pool, *, run_id: uuid.UUID, status: str, error: str | None = None
) -> None:
    """The run has completed, or failed with `error`."""
    async with transaction(pool) as conn:
        await repository.finish_run(conn, id=run_id, status=status, error=error)


# --- invoices --------------------------------------------------------------------------------


async def _with_lines(conn: asyncpg.Connection, rows: list[InvoiceRow]) -> list[InvoiceWithLines]:
    lines: dict[uuid.UUID, list[LineRow]] = {row.id: [] for row in rows}
    for line in await repository.invoice_lines(conn, invoice_ids=list(lines)):
        lines[line.invoice_id].append(line)
    return [InvoiceWithLines(row, lines[row.id]) for row in rows]


async def _read_invoice(
    conn: asyncpg.Connection, invoice_id: uuid.UUID, *, lock: bool = False
) -> InvoiceRow:
    row = await repository.get_invoice(conn, id=invoice_id, lock=lock)
    if row is None:
        raise NotFound("no such invoice", code="invoice_not_found")
    return row


async def list_invoices(
    pool: asyncpg.Pool,
    caller: Principal,
    request_id: str,
    *,
    period: Period | None,
    customer_id: uuid.UUID | None,
    status: str | None,
    limit: int,
    offset: int,
    after: tuple[Any, ...] | None = None,
) -> tuple[list[InvoiceWithLines], int]:
    """One page of invoices by month, customer and status, with their lines (and the first
    of the next page, not audited), and how many match in all."""
    async with transaction(pool) as conn:
        rows = await repository.list_invoices(
            conn,
            period=period,
            customer_id=customer_id,
            status=status,
            limit=limit + 1,
            offset=offset,
            after=after,
        )
        total = await repository.count_invoices(
            conn, period=period, customer_id=customer_id, status=status
        )
        invoices = await _with_lines(conn, rows)
        await _audit.customers(
            conn,
            caller,
            request_id,
            "invoice.list",
            "invoices",
            [r.customer_id for r in rows[:limit]],
        )
    return invoices, total


async def get_invoice(
    pool: asyncpg.Pool, caller: Principal, request_id: str, invoice_id: uuid.UUID
) -> InvoiceWithLines:
    async with transaction(pool) as conn:
        row = await _read_invoice(conn, invoice_id)
        [invoice] = await _with_lines(conn, [row])
        await _audit.customers(
            conn, caller, request_id, "invoice.read", f"invoice:{invoice_id}", [row.customer_id]
        )
    return invoice


async def export_invoices(
    pool: asyncpg.Pool, caller: Principal, request_id: str, *, period: Period
) -> list[ExportRow]:
    """Every line of the issued invoices of a month, with its invoice."""
    async with transaction(pool) as conn:
        rows = await repository.export_rows(conn, period=period)
        await _audit.customers(
            conn,
            caller,
            request_id,
            "invoice.export",
            f"invoices:{period}",
            [r.customer_id for r in rows],
        )
    return rows


async def release_invoice(
    pool: asyncpg.Pool, caller: Principal, request_id: str, invoice_id: uuid.UUID
) -> InvoiceWithLines:
    """Issue a held invoice after review: it gets the year's next number and its event.

    It goes out as it was computed; a fee decision made during the review reaches the
    customer as a correction line on the next invoice.
    """

    async def release(conn: asyncpg.Connection) -> InvoiceWithLines:
        row = await _read_invoice(conn, invoice_id, lock=True)
        if row.status != "held":
            raise Conflict(
                f"the invoice is {row.status}; only a held invoice is released",
                code=f"invoice_{row.status}",
            )
        await repository.issue_held_invoice(
            conn, id=invoice_id, issued_on=today_in_stockholm(), released_by=caller.sub
        )
        await engine.emit_invoice_events(conn, invoice_ids=[invoice_id])
        await _audit.customers(
            conn, caller, request_id, "invoice.release", f"invoice:{invoice_id}", [row.customer_id]
        )
        [invoice] = await _with_lines(conn, [await _read_invoice(conn, invoice_id)])
        return invoice

    return await _in_transaction(pool, release)
