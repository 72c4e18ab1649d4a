"""The outbox against the real PostgreSQL: an event written twice with one id is written once."""

from __future__ import annotations

import uuid

from services.common.bus import add_to_outbox


async def test_outbox_written_twice_with_one_event_id_publishes_once(pool, schema):
    event_id = uuid.uuid4()
    async with pool.acquire() as conn:
        for _ in range(2):
            await add_to_outbox(conn, schema=schema, type="x.y", data={}, event_id=event_id)
        assert await conn.fetchval(f"SELECT count(*) FROM {schema}.outbox") == 1
