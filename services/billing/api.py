"""Routes of the billing service: tariffs, fee decisions, billing runs, invoices."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import uuid
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Body, Query
from fastapi.responses import Response
from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError

from services.billing import domain, events, repository
from services.billing.domain import Period, format_ore
from services.billing.schemas import (
    BillingRun,
    BillingRunIn,
    FeeDecision,
    FeeDecisionIn,
    Invoice,
    InvoiceLine,
    Tariff,
    TariffIn,
)
from services.common import audit
from services.common.auth import Role
from services.common.db import transaction
from services.common.deps import AppSettings, Caller, Pool, RequestId, Temporal
from services.common.errors import Conflict, Invalid, NotFound
from workflows.billing_models import BillingRunInput, billing_run_id

router = APIRouter()
# providers, caseworkers and coordinators see no fees and no invoices
READERS = (Role.fee_admin, Role.admin)
StatusFilter = Annotated[str | None, Query(pattern="^(issued|held)$")]


_audit = audit.AuditLog("billing").rows


def _period(text: str | None) -> Period | None:
    return Period.parse(text) if text is not None else None


# --- tariffs ---------------------------------------------------------------------------------


def _tariff(row: dict[str, Any]) -> Tariff:
    return Tariff(**{**row, "monthly_amount": format_ore(row["monthly_amount"])})


@router.get("/tariffs", response_model=list[Tariff], tags=["tariffs"])
async def list_tariffs(caller: Caller, pool: Pool) -> list[Tariff]:
    """The food tariffs and the maxtaxa, each from the month it applies."""
    caller.require(*READERS)
    async with pool.acquire() as conn:
        return [_tariff(row) for row in await repository.list_tariffs(conn)]


@router.put("/tariffs", response_model=list[Tariff], tags=["tariffs"])
async def put_tariffs(
    body: Annotated[list[TariffIn], Body(min_length=1)], caller: Caller, pool: Pool
) -> list[Tariff]:
    """Set tariffs from a month on (fee administrator); a month already billed keeps its own."""
    caller.require(Role.fee_admin)
    keys = [(t.kind.value, t.valid_from) for t in body]
    if len(set(keys)) != len(keys):
        raise Invalid("each kind and valid_from may come once", code="duplicate_tariff")
    for tariff in body:
        domain.check_tariff_start(tariff.valid_from)
    async with transaction(pool) as conn:
        existing = {
            (row["kind"], row["valid_from"]): row["monthly_amount"]
            for row in await repository.list_tariffs(conn)
        }
        billed = await repository.last_billed_period(conn)
        for tariff in body:
            unchanged = (
                existing.get((tariff.kind.value, tariff.valid_from)) == tariff.monthly_amount
            )
            if billed is not None and tariff.valid_from <= billed and not unchanged:
                raise Conflict(
                    f"{Period.of(billed)} is billed already; a {tariff.kind.value} tariff from "
                    f"{tariff.valid_from} would change what was billed",
                    code="tariff_billed",
                )
        await repository.put_tariffs(
            conn, tariffs=[t.model_dump() for t in body], updated_by=caller.sub
        )
        rows = await repository.list_tariffs(conn)
    return [_tariff(row) for row in rows]


# --- fee decisions ---------------------------------------------------------------------------


def _decision(row: dict[str, Any]) -> FeeDecision:
    return FeeDecision(**{**row, "care_monthly_amount": format_ore(row["care_monthly_amount"])})


@router.post("/fee-decisions", status_code=201, response_model=FeeDecision, tags=["fee decisions"])
async def create_fee_decision(
    body: FeeDecisionIn, caller: Caller, pool: Pool, request_id: RequestId
) -> FeeDecision:
    """Decide a customer's monthly care fee, at most the maxtaxa (fee administrator).

    Months already invoiced are checked again: the difference comes on the next invoice.
    """
    caller.require(Role.fee_admin)
    async with transaction(pool) as conn:
        if not await repository.customer_exists(conn, id=body.customer_id):
            raise Invalid("customer_id names no customer billing knows", code="unknown_customer")
        domain.check_fee_decision(
            care_monthly=body.care_monthly_amount,
            valid_from=body.valid_from,
            valid_to=body.valid_to,
            care_max_by_start=await repository.care_max_by_start(conn),
        )
        row = await repository.insert_fee_decision(
            conn, id=uuid.uuid4(), created_by=caller.sub, **body.model_dump()
        )
        await repository.mark_rechecks(conn, customer_id=body.customer_id, since=body.valid_from)
        await _audit(
            conn, caller, request_id, "fee_decision.create", f"fee_decision:{row['id']}", [row]
        )
    return _decision(row)


@router.get("/fee-decisions", response_model=list[FeeDecision], tags=["fee decisions"])
async def list_fee_decisions(
    caller: Caller, pool: Pool, request_id: RequestId, customer_id: uuid.UUID | None = None
) -> list[FeeDecision]:
    caller.require(*READERS)
    async with transaction(pool) as conn:
        rows = await repository.list_fee_decisions(conn, customer_id=customer_id)
        await _audit(conn, caller, request_id, "fee_decision.list", "fee_decisions", rows)
    return [_decision(row) for row in rows]


# --- billing runs ----------------------------------------------------------------------------


def _run(row: dict[str, Any]) -> BillingRun:
    return BillingRun(
        **{**row, "period": str(Period.of(row["period"])), "total": format_ore(row["total"])}
    )


@router.post("/billing-runs", status_code=202, response_model=BillingRun, tags=["billing runs"])
async def start_billing_run(
    body: BillingRunIn,
    caller: Caller,
    pool: Pool,
    client: Temporal,
    settings: AppSettings,
) -> BillingRun:
    """Bill a month that has ended, now (fee administrator, admin); safe to repeat."""
    caller.require(*READERS)
    period = Period.parse(body.period)
    domain.check_billable(period, domain.today_in_stockholm())
    run_id = uuid.uuid4()
    async with transaction(pool) as conn:
        tariffs = await repository.tariffs_in_force(conn, period=period)
        domain.check_tariffs(period, food=tariffs["food"], care_max=tariffs["care_max"])
        await repository.open_run(
            conn,
            id=run_id,
            period=period,
            workflow_id=billing_run_id(period),
            requested_by=caller.sub,
        )
        # started inside the transaction: if the start fails nothing is written
        await _start_run(
            conn,
            client,
            period,
            BillingRunInput(period=str(period), run_id=run_id, requested_by=caller.sub),
            task_queue=settings.task_queue,
        )
        row = await repository.get_run(conn, id=run_id)
    assert row is not None  # written above, in this transaction
    return _run(row)


async def _start_run(
    conn: asyncpg.Connection,
    client: Client,
    period: Period,
    input: BillingRunInput,
    *,
    task_queue: str,
) -> None:
    """Start `billing-run-<period>`; 409 while another run of the month is at work.

    A run whose books are closed (GET says completed) may still be finishing its workflow
    for a moment: that one is waited for, then the new run starts.
    """
    workflow_id = billing_run_id(period)
    for attempt in range(2):
        try:
            await client.start_workflow("BillingRun", input, id=workflow_id, task_queue=task_queue)
            return
        except WorkflowAlreadyStartedError as exc:
            closed = await repository.previous_run_closed(
                conn, workflow_id=workflow_id, excluding=input.run_id
            )
            if attempt or not closed:
                raise Conflict(
                    f"a billing run for {period} is running already", code="run_in_progress"
                ) from exc
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.get_workflow_handle(workflow_id).result(), 10)


@router.get("/billing-runs/{run_id}", response_model=BillingRun, tags=["billing runs"])
async def get_billing_run(run_id: uuid.UUID, caller: Caller, pool: Pool) -> BillingRun:
    """A run's status, and the counts and total of the invoices it made."""
    caller.require(*READERS)
    async with pool.acquire() as conn:
        row = await repository.get_run(conn, id=run_id)
    if row is None:
        raise NotFound("no such billing run", code="billing_run_not_found")
    return _run(row)


# --- invoices --------------------------------------------------------------------------------


def _line(row: dict[str, Any]) -> InvoiceLine:
    period = Period.of(row["period"])
    return InvoiceLine(
        kind=domain.line_kind(row["fee"], correction=row["correction"]),  # type: ignore[arg-type]
        description=domain.describe_line(
            fee=row["fee"],
            correction=row["correction"],
            period=period,
            days=row["days"],
            billed_before=row["billed_before"],
        ),
        period=str(period),
        days=row["days"],
        monthly_amount=format_ore(row["monthly_amount"]),
        due=format_ore(row["due"]),
        billed_before=format_ore(row["billed_before"]),
        amount=format_ore(row["amount"]),
    )


def _number(row: dict[str, Any]) -> str | None:
    if row["number_seq"] is None:
        return None
    return domain.invoice_number(row["number_year"], row["number_seq"])


async def _with_lines(conn: asyncpg.Connection, rows: list[dict[str, Any]]) -> list[Invoice]:
    lines: dict[uuid.UUID, list[InvoiceLine]] = {row["id"]: [] for row in rows}
    for line in await repository.invoice_lines(conn, invoice_ids=list(lines)):
        lines[line["invoice_id"]].append(_line(line))
    return [
        Invoice(
            **{
                **row,
                "number": _number(row),
                "period": str(Period.of(row["period"])),
                "total": format_ore(row["total"]),
                "lines": lines[row["id"]],
            }
        )
        for row in rows
    ]


@router.get("/invoices/export", tags=["invoices"])
async def export_invoices(
    period: str, caller: Caller, pool: Pool, request_id: RequestId
) -> Response:
    """The issued invoices of a month, one CSV row per line (fee administrator, admin)."""
    caller.require(*READERS)
    month = Period.parse(period)
    async with transaction(pool) as conn:
        rows = await repository.export_rows(conn, period=month)
        await _audit(conn, caller, request_id, "invoice.export", f"invoices:{month}", rows)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "invoice_number",
            "invoice_id",
            "customer_number",
            "period",
            "issued_on",
            "line_kind",
            "line_period",
            "days",
            "amount",
            "invoice_total",
        ]
    )
    for row in rows:
        writer.writerow(
            [
                _number(row),
                row["id"],
                row["customer_number"],
                month,
                row["issued_on"],
                domain.line_kind(row["fee"], correction=row["correction"]),
                Period.of(row["period"]),
                row["days"],
                format_ore(row["amount"]),
                format_ore(row["total"]),
            ]
        )
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="invoices-{month}.csv"'},
    )


@router.get("/invoices", response_model=list[Invoice], tags=["invoices"])
async def list_invoices(
    caller: Caller,
    pool: Pool,
    request_id: RequestId,
    period: str | None = None,
    customer_id: uuid.UUID | None = None,
    status: StatusFilter = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[Invoice]:
    """Invoices by month, customer and status, with their lines (fee administrator, admin)."""
    caller.require(*READERS)
    async with transaction(pool) as conn:
        rows = await repository.list_invoices(
            conn,
            period=_period(period),
            customer_id=customer_id,
            status=status,
            limit=limit,
            offset=offset,
        )
        invoices = await _with_lines(conn, rows)
        await _audit(conn, caller, request_id, "invoice.list", "invoices", rows)
    return invoices


async def _read_invoice(
    conn: asyncpg.Connection, invoice_id: uuid.UUID, *, lock: bool = False
) -> dict[str, Any]:
    row = await repository.get_invoice(conn, id=invoice_id, lock=lock)
    if row is None:
        raise NotFound("no such invoice", code="invoice_not_found")
    return row


@router.get("/invoices/{invoice_id}", response_model=Invoice, tags=["invoices"])
async def get_invoice(
    invoice_id: uuid.UUID, caller: Caller, pool: Pool, request_id: RequestId
) -> Invoice:
    caller.require(*READERS)
    async with transaction(pool) as conn:
        row = await _read_invoice(conn, invoice_id)
        [invoice] = await _with_lines(conn, [row])
        await _audit(conn, caller, request_id, "invoice.read", f"invoice:{invoice_id}", [row])
    return invoice


@router.post("/invoices/{invoice_id}/release", response_model=Invoice, tags=["invoices"])
async def release_invoice(
    invoice_id: uuid.UUID, caller: Caller, pool: Pool, request_id: RequestId
) -> Invoice:
    """Issue a held invoice after review (fee administrator): it gets the year's next number.

    It goes out as it was computed; a fee decision made during the review reaches the
    customer as a correction line on the next invoice.
    """
    caller.require(Role.fee_admin)
    async with transaction(pool) as conn:
        row = await _read_invoice(conn, invoice_id, lock=True)
        if row["status"] != "held":
            raise Conflict(
                f"the invoice is {row['status']}; only a held invoice is released",
                code=f"invoice_{row['status']}",
            )
        await repository.issue_held_invoice(
            conn, id=invoice_id, issued_on=domain.today_in_stockholm(), released_by=caller.sub
        )
        await events.publish_invoices(conn, [invoice_id])
        await _audit(conn, caller, request_id, "invoice.release", f"invoice:{invoice_id}", [row])
        [invoice] = await _with_lines(conn, [await _read_invoice(conn, invoice_id)])
    return invoice


router.include_router(audit.trail_router("billing"))
