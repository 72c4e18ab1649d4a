"""Routes of the orders service: units, customers, orders, executions, reports, audit."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse

from services.common.audit import AuditEntry
from services.common.auth import Role
from services.common.deps import AppSettings, Caller, Pool, RequestId, Temporal
from services.common.paging import PageParams, pages
from services.orders import printing, service
from services.orders.parts import PART_NAMES, parts_to_print
from services.orders.repository import OrderRow
from services.orders.schemas import (
    ConfirmIn,
    Customer,
    CustomerIn,
    CustomerPart,
    Decision,
    EndIn,
    Execution,
    Order,
    OrderIn,
    Parts,
    Unit,
    UnitIn,
    WithdrawIn,
)
from workflows.lifecycle_client import lifecycle_id

router = APIRouter()
ALL_ROLES = tuple(Role)
MAX_ORDERS = 500  # the most orders one answer of GET /orders holds
# the lists' pages: rows per page by default and at most, and the types of their sort keys
ORDER_ORDER = ("date", "datetime", "uuid")  # decision_date, created_at, id
CUSTOMER_ORDER = ("str", "str", "str", "uuid")  # last_name, first_name, customer_number, id
OrderPage = Annotated[
    PageParams,
    Depends(pages(default=MAX_ORDERS, maximum=MAX_ORDERS, shape=ORDER_ORDER, offset=True)),
]
CustomerPage = Annotated[PageParams, Depends(pages(default=100, maximum=500, shape=CUSTOMER_ORDER))]
ReportPage = Annotated[PageParams, Depends(pages(default=500, maximum=1000, shape=ORDER_ORDER))]
StatusFilter = Annotated[str | None, Query(pattern="^(unconfirmed|confirmed|ended|withdrawn)$")]


def _parts(row: OrderRow) -> Parts:
    """The order's parts as the API shows them: what was posted, with the customer's name
    and personnummer, the decision's date, and the text as `other` (an order from before
    the parts has no others)."""
    posted = row.parts or {}
    decision = posted.get("decision")
    return Parts(
        decision=Decision(**decision, decision_date=row.decision_date) if decision else None,
        customer=CustomerPart(
            name=f"{row.first_name} {row.last_name}",
            personnummer=row.personnummer,
            customer_number=row.customer_number,
            **(posted.get("customer") or {}),
        ),
        contacts=posted.get("contacts", []),
        needs=posted.get("needs", []),
        other=row.text or None,
    )


def _order(row: OrderRow, *, with_parts: bool = True) -> Order:
    """An order as the API shows it; a list leaves the parts out (addresses, contacts and
    needs are read one order at a time, and audited as such)."""
    return Order(
        **{k: v for k, v in row.as_dict().items() if k != "parts"},
        parts=_parts(row) if with_parts else None,
        customer_name=f"{row.first_name} {row.last_name}",
        workflow_id=lifecycle_id(row.id),
    )


# --- units ---------------------------------------------------------------------------------


@router.post("/units", status_code=201, response_model=Unit, tags=["units"])
async def create_unit(body: UnitIn, caller: Caller, pool: Pool) -> Unit:
    """Add a provider unit (admin)."""
    row = await service.create_unit(pool, caller, id=body.id, name=body.name)
    return Unit.model_validate(row, from_attributes=True)


@router.get("/units", response_model=list[Unit], tags=["units"])
async def list_units(caller: Caller, pool: Pool) -> list[Unit]:
    """Every provider unit."""
    rows = await service.list_units(pool)
    return [Unit.model_validate(row, from_attributes=True) for row in rows]


# --- customers -----------------------------------------------------------------------------


@router.post("/customers", status_code=201, response_model=Customer, tags=["customers"])
async def create_customer(
    body: CustomerIn, caller: Caller, pool: Pool, request_id: RequestId
) -> Customer:
    """Register a customer (caseworker); the personnummer is validated and stored as 12 digits."""
    row = await service.create_customer(
        pool,
        caller,
        request_id,
        personnummer=body.personnummer,
        first_name=body.first_name,
        last_name=body.last_name,
    )
    return Customer.model_validate(row, from_attributes=True)


@router.get("/customers", response_model=list[Customer], tags=["customers"])
async def search_customers(
    caller: Caller,
    pool: Pool,
    settings: AppSettings,
    request_id: RequestId,
    response: Response,
    page: CustomerPage,
    q: str | None = None,
    id: Annotated[list[uuid.UUID] | None, Query(max_length=100)] = None,
) -> list[Customer]:
    """Search by name, personnummer in any format, or customer number; `id` (repeated, at
    most 100) names the customers wanted, as a page that lists absences asks for names.
    By name; `limit` a page (100, at most 500), the `Link` header's `rel="next"` the next."""
    rows = await service.search_customers(
        pool, settings, caller, request_id, q=q, ids=id or None, limit=page.limit, after=page.after
    )
    shown = page.page(
        response, rows, lambda r: (r.last_name, r.first_name, r.customer_number, r.id)
    )
    return [Customer.model_validate(row, from_attributes=True) for row in shown]


@router.get("/customers/{customer_id}", response_model=Customer, tags=["customers"])
async def get_customer(
    customer_id: uuid.UUID,
    caller: Caller,
    pool: Pool,
    settings: AppSettings,
    request_id: RequestId,
) -> Customer:
    row = await service.read_customer(pool, settings, caller, request_id, customer_id)
    return Customer.model_validate(row, from_attributes=True)


@router.get(
    "/customers/{customer_id}/executions", response_model=list[Execution], tags=["customers"]
)
async def customer_executions(
    customer_id: uuid.UUID,
    caller: Caller,
    pool: Pool,
    settings: AppSettings,
    request_id: RequestId,
) -> list[Execution]:
    """The customer's executions (at the caller's unit, for a provider)."""
    rows = await service.customer_executions(pool, settings, caller, request_id, customer_id)
    return [Execution.model_validate(row, from_attributes=True) for row in rows]


# --- orders --------------------------------------------------------------------------------


@router.post("/orders", status_code=201, response_model=Order, tags=["orders"])
async def create_order(
    body: OrderIn,
    caller: Caller,
    pool: Pool,
    client: Temporal,
    settings: AppSettings,
    request_id: RequestId,
) -> Order:
    """Send an order to a provider unit (caseworker); its lifecycle workflow starts with it.

    The order's `parts` (decision, customer, contacts, needs) are optional, and its `text` is
    the part `other`; it needs one or the other. A wrong part is a 422 that names its field.
    """
    row = await service.create_order(
        pool,
        client,
        settings,
        caller,
        request_id,
        customer_id=body.customer_id,
        unit_id=body.unit_id,
        service=body.service,
        decision_date=body.decision_date,
        planned_start_date=body.planned_start_date,
        text=body.text,
        parts=body.parts.model_dump(mode="json") if body.parts else None,
    )
    return _order(row)


@router.get("/orders", response_model=list[Order], tags=["orders"])
async def list_orders(
    caller: Caller,
    pool: Pool,
    request_id: RequestId,
    response: Response,
    page: OrderPage,
    status: StatusFilter = None,
    q: str | None = None,
    unit_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> list[Order]:
    """Orders by status (`confirmed` includes ongoing), searchable; a provider sees its unit's,
    the other roles every unit's or those of `unit_id`. Oldest decision first, `limit` to a
    page (at most 500); the `Link` header's `rel="next"` is the next page, the header
    `X-Total-Count` says how many match in all. `offset` is deprecated."""
    rows, total = await service.list_orders(
        pool,
        caller,
        request_id,
        status=status,
        q=q,
        limit=page.limit,
        offset=page.offset,
        unit_id=unit_id,
        after=page.after,
    )
    response.headers["X-Total-Count"] = str(total)
    shown = page.page(response, rows, lambda r: (r.decision_date, r.created_at, r.id))
    return [_order(row, with_parts=False) for row in shown]


@router.get("/orders/{order_id}", response_model=Order, tags=["orders"])
async def get_order(
    order_id: uuid.UUID, caller: Caller, pool: Pool, request_id: RequestId
) -> Order:
    """One order with its parts (an order from before them: none, and its text as `other`);
    a withdrawn order is a 404 for its unit, which no longer sees the customer."""
    return _order(await service.read_order(pool, caller, request_id, order_id, shown=True))


@router.get("/orders/{order_id}/print", response_class=HTMLResponse, tags=["orders"])
async def print_order(
    order_id: uuid.UUID,
    caller: Caller,
    pool: Pool,
    request_id: RequestId,
    parts: Annotated[
        str | None,
        Query(
            max_length=200,
            description="The parts to print, comma-separated, of "
            + ", ".join(PART_NAMES)
            + "; all when left out",
            examples=["decision,needs"],
        ),
    ] = None,
) -> HTMLResponse:
    """The order as a printable HTML page, of the parts asked for (manual 3.1)."""
    chosen = parts_to_print(parts)  # an unknown part is a 422 before anything is read
    row = await service.read_order(pool, caller, request_id, order_id, "order.print", shown=True)
    return HTMLResponse(printing.order_page(row, _parts(row), chosen))


@router.post("/orders/{order_id}/confirm", response_model=Order, tags=["orders"])
async def confirm_order(
    order_id: uuid.UUID,
    body: ConfirmIn,
    caller: Caller,
    pool: Pool,
    client: Temporal,
    settings: AppSettings,
    request_id: RequestId,
) -> Order:
    """Confirm the order with the day the customer moves in (provider of the order's unit)."""
    row = await service.confirm_order(
        pool, client, settings, caller, request_id, order_id, start_date=body.start_date
    )
    return _order(row)


@router.post("/orders/{order_id}/withdraw", response_model=Order, tags=["orders"])
async def withdraw_order(
    order_id: uuid.UUID,
    body: WithdrawIn,
    caller: Caller,
    pool: Pool,
    client: Temporal,
    request_id: RequestId,
) -> Order:
    """Withdraw an unconfirmed order (caseworker)."""
    row = await service.withdraw_order(
        pool, client, caller, request_id, order_id, reason=body.reason
    )
    return _order(row)


# --- executions ----------------------------------------------------------------------------


@router.get("/executions/{execution_id}", response_model=Execution, tags=["executions"])
async def get_execution(
    execution_id: uuid.UUID, caller: Caller, pool: Pool, request_id: RequestId
) -> Execution:
    caller.require(Role.provider, Role.caseworker, Role.fee_admin, Role.admin)
    row = await service.read_execution(pool, caller, request_id, execution_id)
    return Execution.model_validate(row, from_attributes=True)


@router.post("/executions/{execution_id}/end", response_model=Execution, tags=["executions"])
async def end_execution(
    execution_id: uuid.UUID,
    body: EndIn,
    caller: Caller,
    pool: Pool,
    client: Temporal,
    settings: AppSettings,
    request_id: RequestId,
) -> Execution:
    """End the execution with the last day, the reason and the provider's tick (provider)."""
    row = await service.end_execution(
        pool,
        client,
        settings,
        caller,
        request_id,
        execution_id,
        end_date=body.end_date,
        reason=body.reason.value,
        confirmed=body.confirmed,
    )
    return Execution.model_validate(row, from_attributes=True)


# --- reports and audit ---------------------------------------------------------------------


@router.get("/reports/unexecuted-decisions", response_model=list[Order], tags=["reports"])
async def unexecuted_decisions(
    caller: Caller, pool: Pool, request_id: RequestId, response: Response, page: ReportPage
) -> list[Order]:
    """Orders still unconfirmed three months after their decision date (reportable to IVO),
    oldest decision first; `limit` to a page (500, at most 1000), the `Link` header's
    `rel="next"` the next."""
    rows = await service.unexecuted_decisions(
        pool, caller, request_id, limit=page.limit, after=page.after
    )
    shown = page.page(response, rows, lambda r: (r.decision_date, r.created_at, r.id))
    return [_order(row, with_parts=False) for row in shown]


@router.get("/audit", response_model=list[AuditEntry], tags=["audit"])
async def audit_trail(
    customer_id: uuid.UUID,
    request: Request,
    caller: Caller,
    pool: Pool,
    settings: AppSettings,
    request_id: RequestId,
) -> list[AuditEntry]:
    """Who read or changed what of one customer, and when, in every service (admin).

    The other services are asked for their part with the caller's token; when one does not
    answer, the answer is a 503 that names it, never a log with a silent gap.
    """
    return await service.audit_trail(
        pool,
        settings,
        caller,
        customer_id=customer_id,
        authorization=request.headers["authorization"],
        request_id=request_id,
    )
