"""The web UI's SQL: its sessions, the forms already posted, the saved choices (schema
`web`). Each statement stands alone (autocommit) except a form's claim, which holds its row
until the post ends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import asyncpg

from services.common.auth import Role
from services.web.people import Membership
from services.web.session import Claim


class PostgresSessions:
    """Sessions in PostgreSQL, shared by every replica of the web UI."""

    def __init__(self, pool: asyncpg.Pool, idle: timedelta) -> None:
        self.pool = pool
        self.idle = idle

    async def read(self, row: bytes) -> tuple[str, bytes, float] | None:
        found = await self.pool.fetchrow(
            """SELECT key_id, data, expires_at FROM web.sessions
               WHERE id_hash = $1 AND expires_at > now()""",
            row,
        )
        if found is None:
            return None
        return found["key_id"], found["data"], found["expires_at"].timestamp()

    async def write(
        self, row: bytes, kid: str, sealed: bytes, expires: float, *, new: bool
    ) -> None:
        async with self.pool.acquire() as conn:
            if new:  # a new session clears away those that expired (an index range)
                await conn.execute("DELETE FROM web.sessions WHERE expires_at <= now()")
                await conn.execute(
                    "DELETE FROM web.form_posts WHERE posted_at < now() - $1::interval",
                    self.idle,
                )
            await conn.execute(
                """INSERT INTO web.sessions (id_hash, key_id, data, expires_at)
                   VALUES ($1, $2, $3, $4)
                   ON CONFLICT (id_hash) DO UPDATE
                   SET key_id = excluded.key_id, data = excluded.data,
                       expires_at = excluded.expires_at""",
                row,
                kid,
                sealed,
                datetime.fromtimestamp(expires, UTC),
            )

    async def delete(self, row: bytes) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute("DELETE FROM web.sessions WHERE id_hash = $1", row)
            await conn.execute("DELETE FROM web.form_posts WHERE session_hash = $1", row)

    async def choice(self, sub: str) -> Membership | None:
        found = await self.pool.fetchrow(
            "SELECT role, unit FROM web.saved_choices WHERE sub = $1", sub
        )
        if found is None:
            return None
        try:
            return Membership(Role(found["role"]), found["unit"])
        except ValueError:  # a role this version no longer has
            return None

    async def keep_choice(self, sub: str, choice: Membership | None) -> None:
        if choice is None:
            await self.pool.execute("DELETE FROM web.saved_choices WHERE sub = $1", sub)
            return
        await self.pool.execute(
            """INSERT INTO web.saved_choices (sub, role, unit) VALUES ($1, $2, $3)
               ON CONFLICT (sub) DO UPDATE
               SET role = excluded.role, unit = excluded.unit, saved_at = now()""",
            sub,
            choice.role.value,
            choice.unit,
        )

    @asynccontextmanager
    async def once(self, row: bytes, form_id: str) -> AsyncIterator[Claim]:
        """The first post inserts the form's row and holds it uncommitted while it runs; a
        second post's insert waits on that row in PostgreSQL, then finds it committed (the
        first took effect: where it led) or gone (it was refused: this one runs)."""
        async with self.pool.acquire() as conn:
            claiming = conn.transaction()
            await claiming.start()
            first = None
            try:
                first = await conn.fetchval(
                    """INSERT INTO web.form_posts (session_hash, form_id, url)
                       VALUES ($1, $2, '') ON CONFLICT DO NOTHING RETURNING true""",
                    row,
                    form_id,
                )
                earlier = None
                if not first:
                    earlier = await conn.fetchval(
                        "SELECT url FROM web.form_posts WHERE session_hash = $1 AND form_id = $2",
                        row,
                        form_id,
                    )
            finally:
                if not first:
                    await claiming.rollback()
            if not first:
                yield Claim(earlier=earlier or None)
                return
            claim = Claim()
            try:
                yield claim
                if claim.url:
                    await conn.execute(
                        """UPDATE web.form_posts SET url = $3
                           WHERE session_hash = $1 AND form_id = $2""",
                        row,
                        form_id,
                        claim.url,
                    )
            except BaseException:
                await claiming.rollback()
                raise
            if claim.url:
                await claiming.commit()
            else:
                await claiming.rollback()  # refused: the same form may be sent again

    async def close(self) -> None:
        await self.pool.close()
