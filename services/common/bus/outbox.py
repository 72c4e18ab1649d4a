"""A service's outbox and inbox tables, and writing an event into the outbox."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from services.common.bus.trace_context import current_context

NOTIFY_CHANNEL = "lifecare_outbox"


def bus_tables_sql(schema: str) -> str:
    """DDL of a service's outbox and inbox tables (used by its first migration)."""
    return f"""
    CREATE TABLE {schema}.outbox (
        seq          bigserial PRIMARY KEY,
        id           uuid NOT NULL UNIQUE,
        type         text NOT NULL,
        occurred_at  timestamptz NOT NULL DEFAULT now(),
        data         jsonb NOT NULL,
        published_at timestamptz
    );
    {trace_context_sql(schema)}
    CREATE INDEX outbox_unpublished ON {schema}.outbox (seq) WHERE published_at IS NULL;
    CREATE FUNCTION {schema}.outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('{NOTIFY_CHANNEL}', '{schema}');
        RETURN NULL;
    END $$;
    CREATE TRIGGER outbox_notify AFTER INSERT ON {schema}.outbox
        FOR EACH STATEMENT EXECUTE FUNCTION {schema}.outbox_notify();
    CREATE TABLE {schema}.inbox (
        event_id    uuid PRIMARY KEY,
        type        text NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now()
    );
    """


def trace_context_sql(schema: str) -> str:
    """DDL of the outbox's `trace_context`: the W3C headers of the span that wrote the event
    (null for a row written outside a trace, or before the column), which the relay puts on
    the message so that its consumers continue the trace. Each service adds it to its outbox
    by a migration; idempotent, so the order of revisions does not matter."""
    return f"ALTER TABLE {schema}.outbox ADD COLUMN IF NOT EXISTS trace_context jsonb;"


async def add_to_outbox(
    conn: asyncpg.Connection,
    *,
    schema: str,
    type: str,
    data: dict[str, Any],
    event_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Write an event into the outbox; it is published once the transaction commits.

    A caller that retries passes a fixed `event_id`: the event is then written only once.
    The current span's context goes with it (`trace_context`).
    """
    event_id = event_id or uuid.uuid4()
    context = current_context()
    await conn.execute(
        f"""INSERT INTO {schema}.outbox (id, type, data, trace_context)
            VALUES ($1, $2, $3, $4::jsonb)
            ON CONFLICT (id) DO NOTHING""",
        event_id,
        type,
        data,
        context,
    )
    return event_id
