"""The orders service's use cases: each owns its transaction, its audit row and its outbox
event. Routes (api.py) and the CLI call these; the rules are in domain.py."""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
from temporalio.client import Client

from services.common import audit
from services.common.audit import AuditEntry
from services.common.auth import STAFF_ROLES, Principal, Role
from services.common.contracts import orders as contracts
from services.common.dates import today_in_stockholm
from services.common.db import transaction
from services.common.errors import Conflict, Invalid, NotFound, Unavailable
from services.common.settings import Settings
from services.orders import domain, events, peers, repository
from services.orders import parts as order_parts
from services.orders.repository import CustomerRow, ExecutionRow, OrderRow, OrderState, UnitRow
from workflows import lifecycle_client as lifecycle
from workflows.models import (
    ChangeResult,
    ConfirmCommand,
    EndCommand,
    NotificationCommand,
    WithdrawCommand,
)

_audit = audit.AuditLog("orders").customers


def actor(caller: Principal, request_id: str) -> lifecycle.Actor:
    """Who asks the lifecycle for a change, as its audit row will name them."""
    return lifecycle.Actor(
        sub=caller.sub, role=caller.role.value, unit=caller.unit, request_id=request_id
    )


def date_bounds(settings: Settings) -> domain.DateBounds:
    """How far from today an order's dates may lie, as the settings say."""
    return domain.DateBounds(
        decision_years_back=settings.order_decision_years_back,
        years_ahead=settings.order_years_ahead,
    )


def search_terms(q: str | None) -> tuple[str | None, str | None]:
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


async def create_unit(pool: asyncpg.Pool, caller: Principal, *, id: str, name: str) -> UnitRow:
    """Add a provider unit (admin), announced as `unit.created`."""
    caller.require(Role.admin)
    async with transaction(pool) as conn:
        unit = await repository.insert_unit(conn, id=id, name=name)
        await events.emit(conn, contracts.UnitCreated(id=unit.id, name=unit.name))
    return unit


async def list_units(pool: asyncpg.Pool) -> list[UnitRow]:
    """Every provider unit (any signed-in caller)."""
    async with pool.acquire() as conn:
        return await repository.list_units(conn)


# --- customers -----------------------------------------------------------------------------


async def create_customer(
    pool: asyncpg.Pool,
    caller: Principal,
    request_id: str,
    *,
    personnummer: str,
    first_name: str,
    last_name: str,
) -> CustomerRow:
    """Register a customer (caseworker); the personnummer is stored as 12 digits."""
    caller.require(Role.caseworker)
    normalized = domain.normalize_personnummer(personnummer)
    async with transaction(pool) as conn:
        customer = await repository.insert_customer(
            conn,
            id=uuid.uuid4(),
            personnummer=normalized,
            first_name=first_name.strip(),
            last_name=last_name.strip(),
        )
        await events.emit(
            conn,
            contracts.CustomerCreated(
                customer_id=customer.id, customer_number=customer.customer_number
            ),
        )
        await _audit(
            conn,
            caller,
            request_id,
            "customer.create",
            f"customer:{customer.id}",
            [customer.id],
        )
    return customer


def visible_since(settings: Settings) -> date:
    """A unit sees a customer whose stay with it ended on or after this day."""
    return domain.customer_visible_since(today_in_stockholm(), settings.customer_visible_after_end)


async def search_customers(
    pool: asyncpg.Pool,
    settings: Settings,
    caller: Principal,
    request_id: str,
    *,
    q: str | None,
    ids: list[uuid.UUID] | None = None,
    limit: int = 100,
    after: tuple[Any, ...] | None = None,
) -> list[CustomerRow]:
    """Customers by name, personnummer in any format, or customer number; or by id. One
    page of `limit` after the sort key `after`, and the first of the next page when there
    is one (read, not audited: it is not shown)."""
    caller.require(*STAFF_ROLES)
    text, personnummer = search_terms(q)
    async with transaction(pool) as conn:
        rows = await repository.search_customers(
            conn,
            text=text,
            personnummer=personnummer,
            unit=caller.provider_unit,
            ids=ids,
            visible_since=visible_since(settings),
            limit=limit + 1,
            after=after,
        )
        shown: list[uuid.UUID | None] = [r.id for r in rows[:limit]]
        await _audit(conn, caller, request_id, "customer.search", "customers", shown)
    return rows


async def read_customer(
    pool: asyncpg.Pool,
    settings: Settings,
    caller: Principal,
    request_id: str,
    customer_id: uuid.UUID,
) -> CustomerRow:
    """One customer (404 for a provider whose unit has no open order of theirs, nor a stay
    that ended within the setting customer_visible_after_end)."""
    caller.require(*STAFF_ROLES)
    async with transaction(pool) as conn:
        row = await repository.get_customer(
            conn, id=customer_id, unit=caller.provider_unit, visible_since=visible_since(settings)
        )
        if row is None:
            raise NotFound("no such customer", code="customer_not_found")
        await _audit(conn, caller, request_id, "customer.read", f"customer:{customer_id}", [row.id])
    return row


async def customer_executions(
    pool: asyncpg.Pool,
    settings: Settings,
    caller: Principal,
    request_id: str,
    customer_id: uuid.UUID,
) -> list[ExecutionRow]:
    """The customer's executions (at the caller's unit, for a provider who may see them)."""
    caller.require(*STAFF_ROLES)
    async with transaction(pool) as conn:
        visible = await repository.get_customer(
            conn, id=customer_id, unit=caller.provider_unit, visible_since=visible_since(settings)
        )
        if visible is None:
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
            [customer_id],
        )
    return rows


# --- orders --------------------------------------------------------------------------------


async def create_order(
    pool: asyncpg.Pool,
    client: Client,
    settings: Settings,
    caller: Principal,
    request_id: str,
    *,
    customer_id: uuid.UUID,
    unit_id: str,
    service: str,
    decision_date: date,
    planned_start_date: date | None,
    text: str | None,
    parts: dict[str, Any] | None = None,
) -> OrderRow:
    """Send an order to a provider unit (caseworker); its lifecycle workflow starts with it.
    `parts` are the order's parts as JSON (schemas.PartsIn); `text` is its part `other`.
    Neither goes into the workflow: it does not need them."""
    caller.require(Role.caseworker)
    domain.check_new_order(
        decision_date=decision_date,
        planned_start_date=planned_start_date,
        today=today_in_stockholm(),
        bounds=date_bounds(settings),
    )
    decision = (parts or {}).get("decision")
    if decision:
        order_parts.check_decision(
            decision_date=decision_date,
            valid_from=date.fromisoformat(decision["valid_from"]),
            valid_to=date.fromisoformat(decision["valid_to"]) if decision["valid_to"] else None,
        )
    order_id = uuid.uuid4()
    async with transaction(pool) as conn:
        customer = await repository.get_customer(conn, id=customer_id, unit=None)
        if customer is None:
            raise Invalid("customer_id names no customer", code="unknown_customer")
        if not await repository.unit_exists(conn, id=unit_id):
            raise Invalid("unit_id names no unit", code="unknown_unit")
        await repository.insert_order(
            conn,
            id=order_id,
            customer_id=customer_id,
            unit_id=unit_id,
            service=service,
            decision_date=decision_date,
            planned_start_date=planned_start_date,
            text=text or "",
            parts=parts,
            created_by=caller.sub,
        )
        await events.emit(
            conn,
            contracts.OrderCreated(
                order_id=order_id,
                customer_id=customer_id,
                unit_id=unit_id,
                service=service,
                decision_date=decision_date,
            ),
        )
        await _audit(
            conn,
            caller,
            request_id,
            "order.create",
            f"order:{order_id}",
            [customer_id],
        )
        # started inside the transaction: if the start fails nothing is written
        await lifecycle.start(
            client,
            task_queue=settings.task_queue,
            order_id=order_id,
            customer_id=customer_id,
            customer_number=customer.customer_number,
            unit_id=unit_id,
            decision_date=decision_date,
            created_at=datetime.now(UTC),
            reminder_after=settings.reminder_after,
            reminder_every=settings.reminder_every,
            ivo_after=settings.ivo_after,
            bounds=date_bounds(settings),
        )
        row = await repository.get_order(conn, id=order_id, unit=None)
    assert row is not None  # written above, in this transaction
    return row


async def list_orders(
    pool: asyncpg.Pool,
    caller: Principal,
    request_id: str,
    *,
    status: str | None,
    q: str | None,
    limit: int = 500,
    offset: int = 0,
    unit_id: str | None = None,
    after: tuple[Any, ...] | None = None,
) -> tuple[list[OrderRow], int]:
    """One page of orders by status (`confirmed` includes ongoing), and how many match in
    all; a provider sees its unit's, the other roles every unit's or `unit_id`'s. The page
    is `limit` after the sort key `after` (or `offset`), and the first of the next page
    when there is one (not audited: it is not shown)."""
    caller.require(*STAFF_ROLES)
    text, personnummer = search_terms(q)
    async with transaction(pool) as conn:
        rows, total = await repository.list_orders(
            conn,
            statuses=list(domain.STATUS_FILTER[status]) if status else None,
            text=text,
            personnummer=personnummer,
            unit=caller.provider_unit or unit_id,
            limit=limit + 1,
            offset=offset,
            # a unit does not see a customer after a withdrawal, in its lists neither
            withdrawn=caller.provider_unit is None,
            after=after,
        )
        await _audit(
            conn, caller, request_id, "order.list", "orders", [r.customer_id for r in rows[:limit]]
        )
    return rows, total


async def read_order(
    pool: asyncpg.Pool,
    caller: Principal,
    request_id: str,
    order_id: uuid.UUID,
    action: str = "order.read",
    *,
    shown: bool = False,
) -> OrderRow:
    """One order, audited as `action` (another unit's is a 404). An order `shown` to a
    person (its page, its printout) is a 404 for a unit once it is withdrawn: the unit no
    longer sees the customer; a step on it still meets the rule's 409."""
    caller.require(*STAFF_ROLES)
    async with transaction(pool) as conn:
        row = await repository.get_order(conn, id=order_id, unit=caller.provider_unit)
        if row is None or (shown and caller.provider_unit and row.status == "withdrawn"):
            raise NotFound("no such order", code="order_not_found")
        await _audit(conn, caller, request_id, action, f"order:{order_id}", [row.customer_id])
    return row


@contextlib.asynccontextmanager
async def _state_when_completed(
    pool: asyncpg.Pool, order_id: uuid.UUID, step: str
) -> AsyncIterator[None]:
    """A change that finds the lifecycle completed lost a race (a withdrawal won it, say):
    refuse it with the 409 that names the order's state now, as the rule would."""
    try:
        yield
    except Conflict as exc:
        if exc.code != "workflow_completed":
            raise
        async with pool.acquire() as conn:
            state = await repository.order_state(conn, order_id=order_id)
        if state is None:
            raise
        raise domain.wrong_state(step, state.status) from exc


async def confirm_order(
    pool: asyncpg.Pool,
    client: Client,
    settings: Settings,
    caller: Principal,
    request_id: str,
    order_id: uuid.UUID,
    *,
    start_date: date,
) -> OrderRow:
    """Confirm with the day the customer moves in (provider of the order's unit)."""
    caller.require(Role.provider)
    order = await read_order(pool, caller, request_id, order_id)
    # answered here when the order is plainly past this step (its workflow may have
    # completed); the workflow's validator applies the same rule to every open case
    domain.check_actor(
        step="confirm",
        sub=caller.sub,
        role=caller.role,
        unit=caller.unit,
        order_unit=order.unit_id,
    )
    domain.check_confirm(
        status=order.status,
        decision_date=order.decision_date,
        start_date=start_date,
        today=today_in_stockholm(),
        bounds=date_bounds(settings),
    )
    async with _state_when_completed(pool, order_id, "confirm"):
        result = await lifecycle.confirm(
            client, order_id, start_date=start_date, actor=actor(caller, request_id)
        )
    # the order as read above, with what the confirmation changed (no second read)
    return dataclasses.replace(
        order,
        status=result.status,
        execution_id=result.execution_id,
        start_date=result.start_date,
    )


async def withdraw_order(
    pool: asyncpg.Pool,
    client: Client,
    caller: Principal,
    request_id: str,
    order_id: uuid.UUID,
    *,
    reason: str,
) -> OrderRow:
    """Withdraw an unconfirmed order (caseworker)."""
    caller.require(Role.caseworker)
    order = await read_order(pool, caller, request_id, order_id)
    domain.check_actor(
        step="withdraw",
        sub=caller.sub,
        role=caller.role,
        unit=caller.unit,
        order_unit=order.unit_id,
    )
    domain.check_withdraw(status=order.status, reason=reason)
    async with _state_when_completed(pool, order_id, "withdraw"):
        await lifecycle.withdraw(client, order_id, reason=reason, actor=actor(caller, request_id))
    return await read_order(pool, caller, request_id, order_id)


# --- executions ----------------------------------------------------------------------------


async def read_execution(
    pool: asyncpg.Pool, caller: Principal, request_id: str, execution_id: uuid.UUID
) -> ExecutionRow:
    """One execution (another unit's is a 404)."""
    async with transaction(pool) as conn:
        row = await repository.get_execution(conn, id=execution_id, unit=caller.provider_unit)
        if row is None:
            raise NotFound("no such execution", code="execution_not_found")
        await _audit(
            conn,
            caller,
            request_id,
            "execution.read",
            f"execution:{execution_id}",
            [row.customer_id],
        )
    return row


async def end_execution(
    pool: asyncpg.Pool,
    client: Client,
    settings: Settings,
    caller: Principal,
    request_id: str,
    execution_id: uuid.UUID,
    *,
    end_date: date,
    reason: str,
    confirmed: bool,
) -> ExecutionRow:
    """End the execution with its last day, the reason and the provider's tick."""
    caller.require(Role.provider)
    execution = await read_execution(pool, caller, request_id, execution_id)
    domain.check_actor(
        step="end",
        sub=caller.sub,
        role=caller.role,
        unit=caller.unit,
        order_unit=execution.unit_id,
    )
    domain.check_end(
        status=execution.status,
        start_date=execution.start_date,
        end_date=end_date,
        reason=reason,
        sure=confirmed,
        today=today_in_stockholm(),
        bounds=date_bounds(settings),
    )
    async with _state_when_completed(pool, execution.order_id, "end"):
        await lifecycle.end(
            client,
            execution.order_id,
            end_date=end_date,
            reason=reason,
            confirmed=confirmed,
            actor=actor(caller, request_id),
        )
    return await read_execution(pool, caller, request_id, execution_id)


# --- reports -------------------------------------------------------------------------------


async def unexecuted_decisions(
    pool: asyncpg.Pool,
    caller: Principal,
    request_id: str,
    *,
    limit: int,
    after: tuple[Any, ...] | None = None,
) -> list[OrderRow]:
    """Orders still unconfirmed three months after their decision date (IVO): `limit`
    after the sort key `after`, and the first of the next page when there is one."""
    caller.require(Role.caseworker, Role.admin)
    cutoff = domain.unexecuted_cutoff(today_in_stockholm())
    async with transaction(pool) as conn:
        rows = await repository.unexecuted_decisions(
            conn, decided_on_or_before=cutoff, limit=limit + 1, after=after
        )
        shown: list[uuid.UUID | None] = [r.customer_id for r in rows[:limit]]
        await _audit(conn, caller, request_id, "report.unexecuted", "reports", shown)
    return rows


# --- the lifecycle's writes (services/orders/activities.py calls these) -----------------------


async def record_confirmation(pool: asyncpg.Pool, command: ConfirmCommand) -> ChangeResult:
    """Confirm the order and open its execution (`order.confirmed`), audited; with `start`,
    also start the execution (`execution.started`) in the same transaction. A retry of a
    committed confirmation answers what it wrote."""
    async with transaction(pool) as conn:
        state = await repository.order_state(conn, order_id=command.order_id)
        if state is None:
            raise NotFound(f"order {command.order_id} does not exist")
        if state.status != "unconfirmed":
            if state.start_date == command.start_date:  # a retry of a committed try
                return _change(command.order_id, state)
            raise Conflict(f"the order is {state.status}")
        execution_id = uuid.uuid4()
        order = await repository.confirm_order(
            conn,
            order_id=command.order_id,
            execution_id=execution_id,
            start_date=command.start_date,
            confirmed_by=command.actor.sub,
        )
        assert order is not None
        await events.emit(
            conn,
            contracts.OrderConfirmed(
                order_id=command.order_id,
                execution_id=execution_id,
                customer_id=order.customer_id,
                unit_id=order.unit_id,
                service=order.service,
                start_date=command.start_date,
            ),
        )
        await _audit_change(
            conn, command.actor, "order.confirm", command.order_id, order.customer_id
        )
        if command.start:
            await _start(conn, command.order_id)
    return ChangeResult(
        order_id=command.order_id,
        status="ongoing" if command.start else "confirmed",
        execution_id=execution_id,
        start_date=command.start_date,
    )


async def record_withdrawal(pool: asyncpg.Pool, command: WithdrawCommand) -> ChangeResult:
    """Withdraw an unconfirmed order (`order.withdrawn`), audited; a retry is answered."""
    async with transaction(pool) as conn:
        order = await repository.withdraw_order(
            conn, order_id=command.order_id, reason=command.reason
        )
        if order is None:
            state = await repository.order_state(conn, order_id=command.order_id)
            if state is not None and state.status == "withdrawn":
                return ChangeResult(order_id=command.order_id, status="withdrawn")
            raise Conflict("the order cannot be withdrawn")
        await events.emit(
            conn,
            contracts.OrderWithdrawn(
                order_id=command.order_id, customer_id=order.customer_id, unit_id=order.unit_id
            ),
        )
        await _audit_change(
            conn, command.actor, "order.withdraw", command.order_id, order.customer_id
        )
    return ChangeResult(order_id=command.order_id, status="withdrawn")


async def record_end(pool: asyncpg.Pool, command: EndCommand) -> ChangeResult:
    """End the execution with its date and reason (`execution.ended`), audited; a retry of
    a committed end answers what it wrote."""
    async with transaction(pool) as conn:
        ended = await repository.end_execution(
            conn,
            order_id=command.order_id,
            end_date=command.end_date,
            reason=command.reason,
            ended_by=command.actor.sub,
        )
        if ended is None:
            state = await repository.order_state(conn, order_id=command.order_id)
            if state is not None and state.end_date == command.end_date:
                return _change(command.order_id, state)
            raise Conflict("the execution cannot be ended")
        await events.emit(
            conn,
            contracts.ExecutionEnded(
                execution_id=ended.id,
                order_id=command.order_id,
                customer_id=ended.customer_id,
                unit_id=ended.unit_id,
                start_date=ended.start_date,
                end_date=command.end_date,
                reason=command.reason,
            ),
        )
        await _audit_change(
            conn, command.actor, "execution.end", command.order_id, ended.customer_id
        )
    return ChangeResult(
        order_id=command.order_id,
        status="ended",
        execution_id=ended.id,
        start_date=ended.start_date,
        end_date=command.end_date,
    )


async def record_start(pool: asyncpg.Pool, order_id: uuid.UUID) -> bool:
    """The start date has come: the execution is ongoing (`execution.started`). False while
    the confirmation is not written yet (to be tried again); True once there is nothing
    left to do (started now or before, or ended before its first day)."""
    async with transaction(pool) as conn:
        if await _start(conn, order_id):
            return True
        state = await repository.order_state(conn, order_id=order_id)
        return state is None or state.status != "unconfirmed"


async def record_notice(pool: asyncpg.Pool, command: NotificationCommand) -> None:
    """Write `notification.requested` under the id the workflow fixed (once, however often
    it is retried: the outbox keeps one row per id)."""
    async with transaction(pool) as conn:
        await events.emit(conn, command.event(), event_id=command.event_id)


async def _audit_change(
    conn: asyncpg.Connection,
    actor: lifecycle.Actor,
    action: str,
    order_id: uuid.UUID,
    customer_id: uuid.UUID,
) -> None:
    await audit.record(
        conn,
        schema="orders",
        principal=Principal(sub=actor.sub, name="", role=Role(actor.role), unit=actor.unit),
        action=action,
        resource=f"order:{order_id}",
        customer_ids=[customer_id],
        request_id=actor.request_id,
    )


def _change(order_id: uuid.UUID, state: OrderState) -> ChangeResult:
    return ChangeResult(
        order_id=order_id,
        status=state.status,
        execution_id=state.execution_id,
        start_date=state.start_date,
        end_date=state.end_date,
    )


async def _start(conn: asyncpg.Connection, order_id: uuid.UUID) -> bool:
    """Move a confirmed order's execution to ongoing with `execution.started`; False if the
    order was not confirmed (in the caller's transaction)."""
    started = await repository.start_execution(conn, order_id=order_id)
    if started is None:
        return False
    await events.emit(
        conn,
        contracts.ExecutionStarted(
            execution_id=started.id,
            order_id=order_id,
            customer_id=started.customer_id,
            unit_id=started.unit_id,
            start_date=started.start_date,
        ),
    )
    return True


# --- the audit log ---------------------------------------------------------------------------


async def audit_trail(
    pool: asyncpg.Pool,
    settings: Settings,
    caller: Principal,
    *,
    customer_id: uuid.UUID,
    authorization: str,
    request_id: str,
) -> list[AuditEntry]:
    """Who read or changed what of one customer, and when, in every service (admin); 503
    naming the services that did not answer, never a log with a silent gap."""
    caller.require(Role.admin)
    theirs, missing = await peers.audit_trails(
        settings, customer_id=customer_id, authorization=authorization, request_id=request_id
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
