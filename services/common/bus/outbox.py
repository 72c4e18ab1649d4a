"""A service's outbox and inbox tables, and writing an event into the outbox."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

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
    """
    event_id = event_id or uuid.uuid4()
    await conn.execute(
        f"""INSERT INTO {schema}.outbox (id, type, data) VALUES ($1, $2, $3)
            ON CONFLICT (id) DO NOTHING""",
        event_id,
        type,
        data,
    )
    return event_id
