"""Routes of the orders service: units, customers, orders, executions, reports, audit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

import asyncpg
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from temporalio.client import WorkflowHandle
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from services.common import audit, temporal
from services.common.audit import AuditEntry
from services.common.auth import Principal, Role
from services.common.db import transaction
from services.common.deps import AppSettings, Caller, Pool, RequestId, Temporal
from services.common.errors import Invalid, NotFound, Unavailable
from services.orders import domain, events, peers, printing, repository
from services.orders.schemas import (
    ConfirmIn,
    Customer,
    CustomerIn,
    EndIn,
    Execution,
    Order,
    OrderIn,
    Unit,
    UnitIn,
    WithdrawIn,
)
from workflows.models import (
    CUSTOMER_NUMBER,
    ORDER_STATUS,
    UNIT_ID,
    Actor,
    ChangeResult,
    ConfirmRequest,
    Durations,
    EndRequest,
    LifecycleInput,
    LifecycleState,
    WithdrawRequest,
    lifecycle_id,
)

router = APIRouter()
ALL_ROLES = tuple(Role)
StatusFilter = Annotated[str | None, Query(pattern="^(unconfirmed|confirmed|ended|withdrawn)$")]


_audit = audit.AuditLog("orders").rows


def _actor(caller: Principal, request_id: str) -> Actor:
    return Actor(sub=caller.sub, role=caller.role.value, unit=caller.unit, request_id=request_id)


def _order(row: dict) -> Order:
    return Order(
        **row,
        customer_name=f"{row['first_name']} {row['last_name']}",
        workflow_id=lifecycle_id(row["id"]),
    )


def _search_terms(q: str | None) -> tuple[str | None, str | None]:
    """The free text and, if it reads as one, the personnummer in its stored form."""
    if not q or not q.strip():
        return None, None
    text = q.strip()
    if domain.looks_like_personnummer(text):
        try:
            return text, domain.normalize_personnummer(text)
        except Invalid:
            return text, None
    return text, None


# --- units ---------------------------------------------------------------------------------


@router.post("/units", status_code=201, response_model=Unit, tags=["units"])
async def create_unit(body: UnitIn, caller: Caller, pool: Pool) -> dict:
    """Add a provider unit (admin)."""
    caller.require(Role.admin)
    async with transaction(pool) as conn:
        unit = await repository.insert_unit(conn, id=body.id, name=body.name)
        await events.emit(conn, events.UNIT_CREATED, id=unit["id"], name=unit["name"])
    return unit


@router.get("/units", response_model=list[Unit], tags=["units"])
async def list_units(caller: Caller, pool: Pool) -> list[dict]:
    """Every provider unit."""
    async with pool.acquire() as conn:
        return await repository.list_units(conn)


# --- customers -----------------------------------------------------------------------------


@router.post("/customers", status_code=201, response_model=Customer, tags=["customers"])
async def create_customer(
    body: CustomerIn, caller: Caller, pool: Pool, request_id: RequestId
) -> dict:
    """Register a customer (caseworker); the personnummer is validated and stored as 12 digits."""
    caller.require(Role.caseworker)
    personnummer = domain.normalize_personnummer(body.personnummer)
    async with transaction(pool) as conn:
        customer = await repository.insert_customer(
            conn,
            id=uuid.uuid4(),
            personnummer=personnummer,
            first_name=body.first_name.strip(),
            last_name=body.last_name.strip(),
        )
        await events.emit(
            conn,
            events.CUSTOMER_CREATED,
            customer_id=customer["id"],
            customer_number=customer["customer_number"],
        )
        await _audit(
            conn,
            caller,
            request_id,
            "customer.create",
            f"customer:{customer['id']}",
            [customer],
            key="id",
        )
    return customer


@router.get("/customers", response_model=list[Customer], tags=["customers"])
async def search_customers(
    caller: Caller, pool: Pool, request_id: RequestId, q: str | None = None
) -> list[dict]:
    """Search by name, personnummer in any format, or customer number."""
    text, personnummer = _search_terms(q)
    async with transaction(pool) as conn:
        rows = await repository.search_customers(
            conn, text=text, personnummer=personnummer, unit=caller.provider_unit
        )
        await _audit(conn, caller, request_id, "customer.search", "customers", rows, key="id")
    return rows


@router.get("/customers/{customer_id}", response_model=Customer, tags=["customers"])
async def get_customer(
    customer_id: uuid.UUID, caller: Caller, pool: Pool, request_id: RequestId
) -> dict:
    async with transaction(pool) as conn:
        row = await repository.get_customer(conn, id=customer_id, unit=caller.provider_unit)
        if row is None:
            raise NotFound("no such customer", code="customer_not_found")
        await _audit(
            conn, caller, request_id, "customer.read", f"customer:{customer_id}", [row], key="id"
        )
    return row


@router.get(
    "/customers/{customer_id}/executions", response_model=list[Execution], tags=["customers"]
)
async def customer_executions(
    customer_id: uuid.UUID, caller: Caller, pool: Pool, request_id: RequestId
) -> list[dict]:
    """The customer's executions (at the caller's unit, for a provider)."""
    async with transaction(pool) as conn:
        if await repository.get_customer(conn, id=customer_id, unit=caller.provider_unit) is None:
            raise NotFound("no such customer", code="customer_not_found")
        rows = await repository.customer_executions(
            conn, customer_id=customer_id, unit=caller.provider_unit
        )
        await _audit(
            conn,
            caller,
            request_id,
            "execution.list",
            f"customer:{customer_id}",
            [{"customer_id": customer_id}],
        )
    return rows


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
    """Send an order to a provider unit (caseworker); its lifecycle workflow starts with it."""
    caller.require(Role.caseworker)
    domain.check_new_order(
        decision_date=body.decision_date, planned_start_date=body.planned_start_date
    )
    order_id = uuid.uuid4()
    async with transaction(pool) as conn:
        customer = await repository.get_customer(conn, id=body.customer_id, unit=None)
        if customer is None:
            raise Invalid("customer_id names no customer", code="unknown_customer")
        if not await repository.unit_exists(conn, id=body.unit_id):
            raise Invalid("unit_id names no unit", code="unknown_unit")
        await repository.insert_order(
            conn,
            id=order_id,
            customer_id=body.customer_id,
            unit_id=body.unit_id,
            service=body.service,
            decision_date=body.decision_date,
            planned_start_date=body.planned_start_date,
            text=body.text,
            created_by=caller.sub,
        )
        await events.emit(
            conn,
            events.ORDER_CREATED,
            order_id=order_id,
            customer_id=body.customer_id,
            unit_id=body.unit_id,
            service=body.service,
            decision_date=body.decision_date,
        )
        await _audit(
            conn,
            caller,
            request_id,
            "order.create",
            f"order:{order_id}",
            [{"customer_id": body.customer_id}],
        )
        # started inside the transaction: if the start fails nothing is written
        await client.start_workflow(
            "OrderLifecycle",
            LifecycleInput(
                state=LifecycleState(
                    order_id=order_id,
                    customer_id=body.customer_id,
                    customer_number=customer["customer_number"],
                    unit_id=body.unit_id,
                    decision_date=body.decision_date,
                    created_at=datetime.now(UTC),
                    durations=Durations(
                        reminder_after=settings.reminder_after.total_seconds(),
                        reminder_every=settings.reminder_every.total_seconds(),
                        ivo_after=settings.ivo_after.total_seconds(),
                    ),
                )
            ),
            id=lifecycle_id(order_id),
            task_queue=settings.task_queue,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(CUSTOMER_NUMBER, customer["customer_number"]),
                    SearchAttributePair(UNIT_ID, body.unit_id),
                    SearchAttributePair(ORDER_STATUS, domain.OrderStatus.unconfirmed.value),
                ]
            ),
        )
        row = await repository.get_order(conn, id=order_id, unit=None)
    assert row is not None  # written above, in this transaction
    return _order(row)


@router.get("/orders", response_model=list[Order], tags=["orders"])
async def list_orders(
    caller: Caller,
    pool: Pool,
    request_id: RequestId,
    status: StatusFilter = None,
    q: str | None = None,
) -> list[Order]:
    """Orders by status (`confirmed` includes ongoing), searchable; a provider sees its unit's."""
    text, personnummer = _search_terms(q)
    async with transaction(pool) as conn:
        rows = await repository.list_orders(
            conn,
            statuses=list(domain.STATUS_FILTER[status]) if status else None,
            text=text,
            personnummer=personnummer,
            unit=caller.provider_unit,
        )
        await _audit(conn, caller, request_id, "order.list", "orders", rows)
    return [_order(row) for row in rows]


async def _read_order(
    pool: asyncpg.Pool, caller: Principal, request_id: str, order_id: uuid.UUID, action: str
) -> dict:
    async with transaction(pool) as conn:
        row = await repository.get_order(conn, id=order_id, unit=caller.provider_unit)
        if row is None:
            raise NotFound("no such order", code="order_not_found")
        await _audit(conn, caller, request_id, action, f"order:{order_id}", [row])
    return row


@router.get("/orders/{order_id}", response_model=Order, tags=["orders"])
async def get_order(
    order_id: uuid.UUID, caller: Caller, pool: Pool, request_id: RequestId
) -> Order:
    return _order(await _read_order(pool, caller, request_id, order_id, "order.read"))


@router.get("/orders/{order_id}/print", response_class=HTMLResponse, tags=["orders"])
async def print_order(
    order_id: uuid.UUID, caller: Caller, pool: Pool, request_id: RequestId
) -> HTMLResponse:
    """The order as a printable HTML page."""
    row = await _read_order(pool, caller, request_id, order_id, "order.print")
    return HTMLResponse(printing.order_page(row))


def _lifecycle(client: Temporal, order_id: uuid.UUID) -> WorkflowHandle:
    return client.get_workflow_handle(lifecycle_id(order_id))


@router.post("/orders/{order_id}/confirm", response_model=Order, tags=["orders"])
async def confirm_order(
    order_id: uuid.UUID,
    body: ConfirmIn,
    caller: Caller,
    pool: Pool,
    client: Temporal,
    request_id: RequestId,
) -> Order:
    """Confirm the order with the day the customer moves in (provider of the order's unit)."""
    caller.require(Role.provider)
    order = await _read_order(pool, caller, request_id, order_id, "order.read")
    # answered here when the order is plainly past this step (its workflow may have completed);
    # the workflow's validator decides every case that is still open
    domain.check_confirm(
        status=order["status"], decision_date=order["decision_date"], start_date=body.start_date
    )
    result = await temporal.update(
        _lifecycle(client, order_id),
        "confirm",
        ConfirmRequest(start_date=body.start_date, actor=_actor(caller, request_id)),
        ChangeResult,
    )
    # the order as read above, with what the confirmation changed (no second read)
    return _order(
        {
            **order,
            "status": result.status,
            "execution_id": result.execution_id,
            "start_date": result.start_date,
        }
    )


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
    caller.require(Role.caseworker)
    order = await _read_order(pool, caller, request_id, order_id, "order.read")
    domain.check_withdraw(status=order["status"])
    await temporal.update(
        _lifecycle(client, order_id),
        "withdraw",
        WithdrawRequest(reason=body.reason, actor=_actor(caller, request_id)),
        ChangeResult,
    )
    return _order(await _read_order(pool, caller, request_id, order_id, "order.read"))


# --- executions ----------------------------------------------------------------------------


async def _read_execution(
    pool: asyncpg.Pool, caller: Principal, request_id: str, execution_id: uuid.UUID
) -> dict:
    async with transaction(pool) as conn:
        row = await repository.get_execution(conn, id=execution_id, unit=caller.provider_unit)
        if row is None:
            raise NotFound("no such execution", code="execution_not_found")
        await _audit(conn, caller, request_id, "execution.read", f"execution:{execution_id}", [row])
    return row


@router.get("/executions/{execution_id}", response_model=Execution, tags=["executions"])
async def get_execution(
    execution_id: uuid.UUID, caller: Caller, pool: Pool, request_id: RequestId
) -> dict:
    caller.require(Role.provider, Role.caseworker, Role.fee_admin, Role.admin)
    return await _read_execution(pool, caller, request_id, execution_id)


@router.post("/executions/{execution_id}/end", response_model=Execution, tags=["executions"])
async def end_execution(
    execution_id: uuid.UUID,
    body: EndIn,
    caller: Caller,
    pool: Pool,
    client: Temporal,
    request_id: RequestId,
) -> dict:
    """End the execution with the last day, the reason and the provider's tick (provider)."""
    caller.require(Role.provider)
    execution = await _read_execution(pool, caller, request_id, execution_id)
    domain.check_end(
        status=execution["status"],
        start_date=execution["start_date"],
        end_date=body.end_date,
        sure=body.confirmed,
    )
    await temporal.update(
        _lifecycle(client, execution["order_id"]),
        "end",
        EndRequest(
            end_date=body.end_date,
            reason=body.reason.value,
            confirmed=body.confirmed,
            actor=_actor(caller, request_id),
        ),
        ChangeResult,
    )
    return await _read_execution(pool, caller, request_id, execution_id)


# --- reports and audit ---------------------------------------------------------------------


@router.get("/reports/unexecuted-decisions", response_model=list[Order], tags=["reports"])
async def unexecuted_decisions(caller: Caller, pool: Pool, request_id: RequestId) -> list[Order]:
    """Orders still unconfirmed three months after their decision date (reportable to IVO)."""
    caller.require(Role.caseworker, Role.admin)
    cutoff = domain.unexecuted_cutoff(domain.today_in_stockholm())
    async with transaction(pool) as conn:
        rows = await repository.unexecuted_decisions(conn, decided_on_or_before=cutoff)
        await _audit(conn, caller, request_id, "report.unexecuted", "reports", rows)
    return [_order(row) for row in rows]


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
    caller.require(Role.admin)
    theirs, missing = await peers.audit_trails(
        settings,
        customer_id=customer_id,
        authorization=request.headers["authorization"],
        request_id=request_id,
    )
    if missing:
        reasons = "; ".join(f"{name} {problem}" for name, problem in missing.items())
        raise Unavailable(
            f"the audit log is incomplete, so none is shown: {reasons}; try again",
            code="audit_incomplete",
        )
    ours = await audit.read_trail(
        pool, schema="orders", principal=caller, customer_id=customer_id, request_id=request_id
    )
    entries = [AuditEntry.model_validate(row) for row in ours] + theirs
    return sorted(entries, key=lambda entry: entry.at)
