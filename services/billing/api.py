"""Routes of the billing service: tariffs, fee decisions, billing runs, invoices. Each
parses, authorizes, calls its use case (service.py) and maps the answer to HTTP."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query
from fastapi.responses import Response

from services.billing import domain, service, texts
from services.billing.domain import Period, format_ore
from services.billing.repository import (
    FeeDecisionRow,
    LineRow,
    RunRow,
    TariffRow,
    UncorrectedRow,
)
from services.billing.schemas import (
    BillingRun,
    BillingRunIn,
    FeeDecision,
    FeeDecisionIn,
    Invoice,
    InvoiceLine,
    Tariff,
    TariffIn,
    UncorrectedMonth,
)
from services.common import audit
from services.common.auth import Role
from services.common.deps import AppSettings, Caller, Pool, RequestId, Temporal
from services.common.paging import PageParams, pages

router = APIRouter()
# providers, caseworkers and coordinators see no fees and no invoices
READERS = (Role.fee_admin, Role.admin)
StatusFilter = Annotated[str | None, Query(pattern="^(issued|held)$")]
# the lists' pages: rows by default and at most, the types of their sort keys, and the
# deprecated offset where a list had it
DecisionPage = Annotated[
    PageParams,
    Depends(pages(default=500, maximum=5000, shape=("uuid", "date", "datetime", "uuid"))),
]
RunPage = Annotated[
    PageParams,
    Depends(pages(default=50, maximum=500, shape=("datetime", "uuid"), offset=True)),
]
UncorrectedPage = Annotated[
    PageParams,
    Depends(pages(default=500, maximum=5000, shape=("str", "uuid", "date", "str"), offset=True)),
]
InvoicePage = Annotated[
    PageParams,
    Depends(pages(default=500, maximum=5000, shape=("date", "str", "str", "uuid"), offset=True)),
]


def _period(text: str | None) -> Period | None:
    return Period.parse(text) if text is not None else None


# --- tariffs ---------------------------------------------------------------------------------


def _tariff(row: TariffRow) -> Tariff:
    return Tariff(**{**row.as_dict(), "monthly_amount": format_ore(row.monthly_amount)})


@router.get("/tariffs", response_model=list[Tariff], tags=["tariffs"])
async def list_tariffs(caller: Caller, pool: Pool) -> list[Tariff]:
    """The food tariffs and the maxtaxa, each from the month it applies."""
    caller.require(*READERS)
    return [_tariff(row) for row in await service.list_tariffs(pool)]


@router.put("/tariffs", response_model=list[Tariff], tags=["tariffs"])
async def put_tariffs(
    body: Annotated[list[TariffIn], Body(min_length=1)], caller: Caller, pool: Pool
) -> list[Tariff]:
    """Set tariffs from a month on (fee administrator); a month already billed keeps its own."""
    caller.require(Role.fee_admin)
    tariffs = [
        TariffRow(kind=t.kind.value, monthly_amount=t.monthly_amount, valid_from=t.valid_from)
        for t in body
    ]
    return [_tariff(row) for row in await service.set_tariffs(pool, caller, tariffs=tariffs)]


# --- fee decisions ---------------------------------------------------------------------------


def _decision(row: FeeDecisionRow) -> FeeDecision:
    return FeeDecision(
        **{**row.as_dict(), "care_monthly_amount": format_ore(row.care_monthly_amount)}
    )


@router.post("/fee-decisions", status_code=201, response_model=FeeDecision, tags=["fee decisions"])
async def create_fee_decision(
    body: FeeDecisionIn, caller: Caller, pool: Pool, request_id: RequestId
) -> FeeDecision:
    """Decide a customer's monthly care fee, at most the maxtaxa (fee administrator).

    Months already invoiced are checked again: the difference comes on the next invoice.
    """
    caller.require(Role.fee_admin)
    row = await service.add_fee_decision(pool, caller, request_id, **body.model_dump())
    return _decision(row)


@router.get("/fee-decisions", response_model=list[FeeDecision], tags=["fee decisions"])
async def list_fee_decisions(
    caller: Caller,
    pool: Pool,
    request_id: RequestId,
    response: Response,
    page: DecisionPage,
    customer_id: uuid.UUID | None = None,
) -> list[FeeDecision]:
    """Fee decisions by customer and first month; `limit` to a page (500, at most 5000),
    the `Link` header's `rel="next"` the next."""
    caller.require(*READERS)
    rows = await service.list_fee_decisions(
        pool, caller, request_id, customer_id=customer_id, limit=page.limit, after=page.after
    )
    shown = page.page(response, rows, lambda r: (r.customer_id, r.valid_from, r.created_at, r.id))
    return [_decision(row) for row in shown]


# --- billing runs ----------------------------------------------------------------------------


def _run(row: RunRow) -> BillingRun:
    return BillingRun(
        **{
            **row.as_dict(),
            "period": str(Period.of(row.period)),
            "total": format_ore(row.total),
            "correct_from": str(Period.of(row.correct_from)) if row.correct_from else None,
        }
    )


def _uncorrected(row: UncorrectedRow) -> UncorrectedMonth:
    return UncorrectedMonth(
        customer_id=row.customer_id,
        customer_number=row.customer_number,
        period=str(Period.of(row.period)),
        fee=row.fee,  # type: ignore[arg-type]
        due=format_ore(row.due),
        billed_before=format_ore(row.billed_before),
        difference=format_ore(row.difference),
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
    row = await service.start_billing_run(
        pool, client, caller, period=Period.parse(body.period), task_queue=settings.task_queue
    )
    return _run(row)


@router.get("/billing-runs", response_model=list[BillingRun], tags=["billing runs"])
async def list_billing_runs(
    caller: Caller,
    pool: Pool,
    response: Response,
    page: RunPage,
    period: str | None = None,
) -> list[BillingRun]:
    """Billing runs, newest first, of every month or of `period` (fee administrator, admin);
    `limit` to a page (50, at most 500), the `Link` header's `rel="next"` the next, the
    header `X-Total-Count` how many match in all. `offset` is deprecated."""
    caller.require(*READERS)
    rows, total = await service.list_runs(
        pool, period=_period(period), limit=page.limit, offset=page.offset, before=page.after
    )
    response.headers["X-Total-Count"] = str(total)
    return [_run(row) for row in page.page(response, rows, lambda r: (r.started_at, r.id))]


@router.get("/billing-runs/{run_id}", response_model=BillingRun, tags=["billing runs"])
async def get_billing_run(run_id: uuid.UUID, caller: Caller, pool: Pool) -> BillingRun:
    """A run's status, and the counts and total of the invoices it made."""
    caller.require(*READERS)
    return _run(await service.get_run(pool, run_id))


@router.get(
    "/billing-runs/{run_id}/uncorrected",
    response_model=list[UncorrectedMonth],
    tags=["billing runs"],
)
async def list_uncorrected(
    run_id: uuid.UUID,
    caller: Caller,
    pool: Pool,
    request_id: RequestId,
    response: Response,
    page: UncorrectedPage,
) -> list[UncorrectedMonth]:
    """The months whose fees changed but which the run did not correct, because they lie
    before its correction window (`correct_from`): what the rules give for each today, what
    was billed and the difference, for a fee administrator to settle by hand. Paged like
    GET /invoices."""
    caller.require(*READERS)
    rows, total = await service.list_uncorrected(
        pool, caller, request_id, run_id, limit=page.limit, offset=page.offset, after=page.after
    )
    response.headers["X-Total-Count"] = str(total)
    shown = page.page(response, rows, lambda r: (r.customer_number, r.customer_id, r.period, r.fee))
    return [_uncorrected(row) for row in shown]


# --- invoices --------------------------------------------------------------------------------


def _line(row: LineRow) -> InvoiceLine:
    period = Period.of(row.period)
    return InvoiceLine(
        kind=domain.line_kind(row.fee, correction=row.correction),  # type: ignore[arg-type]
        description=texts.describe_line(
            fee=row.fee,
            correction=row.correction,
            period=period,
            days=row.days,
            billed_before=row.billed_before,
        ),
        period=str(period),
        days=row.days,
        monthly_amount=format_ore(row.monthly_amount),
        due=format_ore(row.due),
        billed_before=format_ore(row.billed_before),
        amount=format_ore(row.amount),
    )


def _number(year: int | None, seq: int | None) -> str | None:
    if year is None or seq is None:
        return None
    return domain.invoice_number(year, seq)


def _invoice(found: service.InvoiceWithLines) -> Invoice:
    row = found.invoice
    return Invoice(
        **{
            **row.as_dict(),
            "number": _number(row.number_year, row.number_seq),
            "period": str(Period.of(row.period)),
            "total": format_ore(row.total),
            "lines": [_line(line) for line in found.lines],
        }
    )


@router.get("/invoices/export", tags=["invoices"])
async def export_invoices(
    period: str, caller: Caller, pool: Pool, request_id: RequestId
) -> Response:
    """The issued invoices of a month, one CSV row per line (fee administrator, admin)."""
    caller.require(*READERS)
    month = Period.parse(period)
    rows = await service.export_invoices(pool, caller, request_id, period=month)
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
                _number(row.number_year, row.number_seq),
                row.id,
                row.customer_number,
                month,
                row.issued_on,
                domain.line_kind(row.fee, correction=row.correction),
                Period.of(row.period),
                row.days,
                format_ore(row.amount),
                format_ore(row.total),
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
    response: Response,
    page: InvoicePage,
    period: str | None = None,
    customer_id: uuid.UUID | None = None,
    status: StatusFilter = None,
) -> list[Invoice]:
    """Invoices by month, customer and status, with their lines (fee administrator, admin),
    the latest month first; `limit` to a page (500, at most 5000), the `Link` header's
    `rel="next"` the next, the header `X-Total-Count` how many match in all. `offset` is
    deprecated."""
    caller.require(*READERS)
    found, total = await service.list_invoices(
        pool,
        caller,
        request_id,
        period=_period(period),
        customer_id=customer_id,
        status=status,
        limit=page.limit,
        offset=page.offset,
        after=page.after,
    )
    response.headers["X-Total-Count"] = str(total)
    shown = page.page(
        response,
        found,
        lambda f: (f.invoice.period, f.invoice.customer_number, f.invoice.kind, f.invoice.id),
    )
    return [_invoice(invoice) for invoice in shown]


@router.get("/invoices/{invoice_id}", response_model=Invoice, tags=["invoices"])
async def get_invoice(
    invoice_id: uuid.UUID, caller: Caller, pool: Pool, request_id: RequestId
) -> Invoice:
    caller.require(*READERS)
    return _invoice(await service.get_invoice(pool, caller, request_id, invoice_id))


@router.post("/invoices/{invoice_id}/release", response_model=Invoice, tags=["invoices"])
async def release_invoice(
    invoice_id: uuid.UUID, caller: Caller, pool: Pool, request_id: RequestId
) -> Invoice:
    """Issue a held invoice after review (fee administrator): it gets the year's next number.

    It goes out as it was computed; a fee decision made during the review reaches the
    customer as a correction line on the next invoice.
    """
    caller.require(Role.fee_admin)
    return _invoice(await service.release_invoice(pool, caller, request_id, invoice_id))


router.include_router(audit.trail_router("billing"))
