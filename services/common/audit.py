"""Audit log (loggkontroll): every read and change of a customer's data leaves a row."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from fastapi import APIRouter
from pydantic import BaseModel

from services.common.auth import Principal, Role
from services.common.db import transaction
from services.common.deps import Caller, Pool, RequestId


class AuditEntry(BaseModel):
    """One row of a customer's audit log as the API shows it: who, in which service, did
    what, when, in which request."""

    at: datetime
    service: str
    actor_sub: str
    actor_role: str
    actor_unit: str | None
    action: str
    resource: str
    request_id: str | None


def audit_table_sql(schema: str) -> str:
    """DDL of a service's audit table (used by its first migration)."""
    return f"""
    CREATE TABLE {schema}.audit (
        id          bigserial PRIMARY KEY,
        at          timestamptz NOT NULL DEFAULT now(),
        request_id  text,
        actor_sub   text NOT NULL,
        actor_role  text NOT NULL,
        actor_unit  text,
        action      text NOT NULL,
        customer_id uuid,
        resource    text NOT NULL
    );
    CREATE INDEX audit_customer ON {schema}.audit (customer_id, at);
    """


async def record(
    conn: asyncpg.Connection,
    *,
    schema: str,
    principal: Principal,
    action: str,
    resource: str,
    customer_ids: list[uuid.UUID],
    request_id: str | None,
) -> None:
    """Write one audit row per customer touched, in the caller's transaction, in one
    statement (a list's read is one round trip, however many rows it shows)."""
    if not customer_ids:
        return
    await conn.execute(
        f"""INSERT INTO {schema}.audit
            (request_id, actor_sub, actor_role, actor_unit, action, customer_id, resource)
            SELECT $1, $2, $3, $4, $5, customer_id, $7
              FROM unnest($6::uuid[]) WITH ORDINALITY AS touched (customer_id, n)
             ORDER BY n""",
        request_id,
        principal.sub,
        principal.role.value,
        principal.unit,
        action,
        customer_ids,
        resource,
    )


async def record_action(
    conn: asyncpg.Connection,
    *,
    schema: str,
    principal: Principal,
    action: str,
    resource: str,
    request_id: str | None,
) -> None:
    """Write one audit row of a change that concerns no customer (who may sign in as what),
    in the caller's transaction."""
    await conn.execute(
        f"""INSERT INTO {schema}.audit
            (request_id, actor_sub, actor_role, actor_unit, action, customer_id, resource)
            VALUES ($1, $2, $3, $4, $5, NULL, $6)""",
        request_id,
        principal.sub,
        principal.role.value,
        principal.unit,
        action,
        resource,
    )


@dataclass(frozen=True)
class AuditLog:
    """One service's audit log, its schema's `audit` table, as its routes write it."""

    schema: str

    async def action(
        self,
        conn: asyncpg.Connection,
        caller: Principal,
        request_id: str,
        action: str,
        resource: str,
    ) -> None:
        """One audit row of a change that concerns no customer (a membership, a token)."""
        await record_action(
            conn,
            schema=self.schema,
            principal=caller,
            action=action,
            resource=resource,
            request_id=request_id,
        )

    async def customers(
        self,
        conn: asyncpg.Connection,
        caller: Principal,
        request_id: str,
        action: str,
        resource: str,
        customer_ids: list[uuid.UUID | None],
    ) -> None:
        """One audit row per customer named, once each; what concerns no known customer
        (None) is not audited."""
        await record(
            conn,
            schema=self.schema,
            principal=caller,
            action=action,
            resource=resource,
            customer_ids=list(dict.fromkeys(c for c in customer_ids if c is not None)),
            request_id=request_id,
        )


async def trail(
    conn: asyncpg.Connection, *, schema: str, customer_id: uuid.UUID
) -> list[dict[str, object]]:
    """Who did what to one customer and when, oldest first."""
    rows = await conn.fetch(
        f"""SELECT at, request_id, actor_sub, actor_role, actor_unit, action, customer_id,
                   resource, '{schema}' AS service
            FROM {schema}.audit WHERE customer_id = $1 ORDER BY at, id""",
        customer_id,
    )
    return [dict(row) for row in rows]


async def read_trail(
    pool: asyncpg.Pool,
    *,
    schema: str,
    principal: Principal,
    customer_id: uuid.UUID,
    request_id: str | None,
) -> list[dict[str, object]]:
    """The service's audit rows of one customer, oldest first; the read is audited too."""
    async with transaction(pool) as conn:
        rows = await trail(conn, schema=schema, customer_id=customer_id)
        await record(
            conn,
            schema=schema,
            principal=principal,
            action="audit.read",
            resource=f"customer:{customer_id}",
            customer_ids=[customer_id],
            request_id=request_id,
        )
    return rows


def trail_router(schema: str) -> APIRouter:
    """The admin-only `GET /audit` of a service: its part of one customer's audit log, which
    the orders service's `GET /audit` gathers with every other service's part."""
    router = APIRouter()

    @router.get("/audit", response_model=list[AuditEntry], tags=["audit"])
    async def audit_trail(
        customer_id: uuid.UUID, caller: Caller, pool: Pool, request_id: RequestId
    ) -> list[dict[str, object]]:
        """This service's part of one customer's audit log (admin)."""
        caller.require(Role.admin)
        return await read_trail(
            pool, schema=schema, principal=caller, customer_id=customer_id, request_id=request_id
        )

    return router
