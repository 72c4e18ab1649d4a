"""All SQL of the messaging service. Functions never commit: the caller owns the transaction.
They return typed rows."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from services.common.errors import Conflict
from services.common.rows import Row
from services.messaging.domain import Envelope, Mailbox, MailboxKind


@dataclasses.dataclass(frozen=True, slots=True)
class MailboxRow(Row):
    """A mailbox found by name or id: a group's, a unit's or a person's."""

    id: str
    name: str
    kind: str  # group, unit or user


@dataclasses.dataclass(frozen=True, slots=True)
class AttachmentRow(Row):
    id: uuid.UUID
    filename: str
    content_type: str
    size: int


@dataclasses.dataclass(frozen=True, slots=True)
class AttachmentFile(AttachmentRow):
    """An attachment with its bytes and who uploaded it."""

    owner_sub: str
    data: bytes


@dataclasses.dataclass(frozen=True, slots=True)
class Recipient:
    """A mailbox a message went to, by id and by the name it had then."""

    id: str
    name: str


@dataclasses.dataclass(frozen=True, slots=True)
class MessageBase(Row):
    """What a folder and a whole message both show of a message."""

    id: uuid.UUID
    subject: str
    kind: str
    sender_sub: str | None
    sender_name: str
    sent_at: datetime
    in_reply_to: uuid.UUID | None
    customer_id: uuid.UUID | None
    recipients: tuple[Recipient, ...]  # in order
    attachment_count: int


@dataclasses.dataclass(frozen=True, slots=True)
class MessageSummaryRow(MessageBase):
    """A message as a folder lists it."""

    unread: bool


@dataclasses.dataclass(frozen=True, slots=True)
class MessageRow(MessageBase):
    """The whole message: its text and its attachments (without their bytes)."""

    body: str
    order_id: uuid.UUID | None
    attachments: tuple[AttachmentRow, ...]  # without their bytes, in order


def _message_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """A message's record with its JSON lists of recipients and attachments made typed."""
    fields = dict(record)
    fields["recipients"] = tuple(Recipient(r["id"], r["name"]) for r in record["recipients"])
    if "attachments" in record:
        fields["attachments"] = tuple(
            AttachmentRow(
                id=uuid.UUID(a["id"]),
                filename=a["filename"],
                content_type=a["content_type"],
                size=a["size"],
            )
            for a in record["attachments"]
        )
    return fields


# --- units and people (the mailbox directory) ----------------------------------------------


async def upsert_unit(conn: asyncpg.Connection, *, id: str, name: str) -> None:
    """Remember a provider unit (from `unit.created`), so its mailbox can be found."""
    await conn.execute(
        """INSERT INTO messaging.units (id, name) VALUES ($1, $2)
           ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name""",
        id,
        name,
    )


async def record_person(
    conn: asyncpg.Connection, *, sub: str, name: str, role: str, unit: str | None
) -> None:
    """Remember a person who used the inbox, so others can find their mailbox by name.

    Known as they are and seen within the day (nearly every request: the badge asks on
    every page), it only reads: the upsert below locks the row even when it changes
    nothing, which made every read of the inbox a write that waited for the disk."""
    known = await conn.fetchval(
        """SELECT true FROM messaging.people p
           WHERE p.sub = $1 AND (p.name, p.role, p.unit) IS NOT DISTINCT FROM ($2, $3, $4)
             AND p.seen_at >= now() - interval '1 day'""",
        sub,
        name,
        role,
        unit,
    )
    if known:
        return
    await conn.execute(
        """INSERT INTO messaging.people AS p (sub, name, role, unit) VALUES ($1, $2, $3, $4)
           ON CONFLICT (sub) DO UPDATE
               SET name = EXCLUDED.name, role = EXCLUDED.role, unit = EXCLUDED.unit,
                   seen_at = now()
               WHERE (p.name, p.role, p.unit) IS DISTINCT FROM
                     (EXCLUDED.name, EXCLUDED.role, EXCLUDED.unit)
                  OR p.seen_at < now() - interval '1 day'""",
        sub,
        name,
        role,
        unit,
    )


async def search_mailboxes(
    conn: asyncpg.Connection, *, text: str | None, limit: int
) -> list[MailboxRow]:
    """Unit and personal mailboxes whose id or name contains `text`."""
    records = await conn.fetch(
        """SELECT * FROM (
               SELECT 'unit:' || id AS id, name, 'unit' AS kind FROM messaging.units
               UNION ALL
               SELECT 'user:' || sub, name, 'user' FROM messaging.people
           ) m
           WHERE $1::text IS NULL
              OR m.name ILIKE '%' || $1 || '%' OR m.id ILIKE '%' || $1 || '%'
           ORDER BY m.kind, lower(m.name), m.id
           LIMIT $2""",
        text,
        limit,
    )
    return MailboxRow.many(records)


async def mailbox_names(conn: asyncpg.Connection, *, mailboxes: list[Mailbox]) -> dict[str, str]:
    """The names of the known unit and personal mailboxes among `mailboxes`, by id."""
    units = [m.key for m in mailboxes if m.kind == MailboxKind.unit]
    subs = [m.key for m in mailboxes if m.kind == MailboxKind.user]
    records = await conn.fetch(
        """SELECT 'unit:' || id AS id, name FROM messaging.units WHERE id = ANY($1::text[])
           UNION ALL
           SELECT 'user:' || sub, name FROM messaging.people WHERE sub = ANY($2::text[])""",
        units,
        subs,
    )
    return {r["id"]: r["name"] for r in records}


# --- attachments ---------------------------------------------------------------------------

_ATTACHMENT_COLUMNS = "a.id, a.filename, a.content_type, a.size"
_CARRIED_BY_NONE = """NOT EXISTS (
    SELECT 1 FROM messaging.message_attachments x WHERE x.attachment_id = a.id)"""


async def insert_attachment(
    conn: asyncpg.Connection,
    *,
    id: uuid.UUID,
    owner_sub: str,
    filename: str,
    content_type: str,
    data: bytes,
) -> AttachmentRow:
    record = await conn.fetchrow(
        f"""INSERT INTO messaging.attachments AS a
                (id, owner_sub, filename, content_type, size, data)
            VALUES ($1, $2, $3, $4, $5, $6) RETURNING {_ATTACHMENT_COLUMNS}""",
        id,
        owner_sub,
        filename,
        content_type,
        len(data),
        data,
    )
    return AttachmentRow.of(record)


async def owned_attachments(
    conn: asyncpg.Connection, *, ids: list[uuid.UUID], owner_sub: str
) -> set[uuid.UUID]:
    """Which of `ids` the caller uploaded; locked until the caller's transaction ends."""
    records = await conn.fetch(
        """SELECT id FROM messaging.attachments WHERE id = ANY($1::uuid[]) AND owner_sub = $2
           FOR SHARE""",
        ids,
        owner_sub,
    )
    return {r["id"] for r in records}


async def lock_attachments(conn: asyncpg.Connection, *, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of `ids` still exist; locked against deletion until the transaction ends."""
    records = await conn.fetch(
        "SELECT id FROM messaging.attachments WHERE id = ANY($1::uuid[]) FOR SHARE", ids
    )
    return {r["id"] for r in records}


async def get_attachment(conn: asyncpg.Connection, *, id: uuid.UUID) -> AttachmentFile | None:
    """An attachment with its bytes and who uploaded it."""
    record = await conn.fetchrow(
        f"SELECT {_ATTACHMENT_COLUMNS}, a.owner_sub, a.data FROM messaging.attachments a "
        "WHERE a.id = $1",
        id,
    )
    return AttachmentFile.maybe(record)


# --- messages ------------------------------------------------------------------------------

_ENVELOPE = """
    SELECT m.id, m.sender_sub, m.sender_deleted_at IS NOT NULL AS sender_deleted, m.customer_id,
           COALESCE(array_agg(d.mailbox) FILTER (WHERE d.deleted_at IS NULL), '{}') AS mailboxes
    FROM messaging.messages m LEFT JOIN messaging.deliveries d ON d.message_id = m.id
"""
_RECIPIENTS = """COALESCE((
    SELECT json_agg(json_build_object('id', r.mailbox, 'name', r.mailbox_name)
                    ORDER BY r.position)
    FROM messaging.deliveries r WHERE r.message_id = m.id), '[]') AS recipients"""
_SUMMARY_COLUMNS = f"""
    m.id, m.subject, m.kind, m.sender_sub, m.sender_name, m.sent_at, m.in_reply_to,
    m.customer_id, {_RECIPIENTS},
    (SELECT count(*) FROM messaging.message_attachments x WHERE x.message_id = m.id)
        AS attachment_count
"""
# a delivery shows in the caller's inbox ($1 their mailboxes, $2 their sub): see
# domain.in_inbox; one's own message to a shared mailbox is in the sent folder only
_IN_INBOX = """d.mailbox = ANY($1::text[]) AND d.deleted_at IS NULL
    AND (m.sender_sub IS DISTINCT FROM $2 OR d.mailbox = 'user:' || $2)"""


def _envelope(record: asyncpg.Record) -> Envelope:
    return Envelope(
        sender_sub=record["sender_sub"],
        sender_deleted=record["sender_deleted"],
        mailboxes=tuple(record["mailboxes"]),
        customer_id=record["customer_id"],
    )


async def insert_message(
    conn: asyncpg.Connection,
    *,
    id: uuid.UUID,
    sender_sub: str | None,
    sender_name: str,
    subject: str,
    body: str,
    recipients: list[tuple[str, str]],
    attachment_ids: list[uuid.UUID],
    kind: str = "message",
    in_reply_to: uuid.UUID | None = None,
    order_id: uuid.UUID | None = None,
    customer_id: uuid.UUID | None = None,
) -> None:
    """Write a message with its deliveries (mailbox id, name) and its attachments."""
    await conn.execute(
        """INSERT INTO messaging.messages (id, sender_sub, sender_name, subject, body, kind,
                                           in_reply_to, order_id, customer_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
        id,
        sender_sub,
        sender_name,
        subject,
        body,
        kind,
        in_reply_to,
        order_id,
        customer_id,
    )
    await conn.execute(
        """INSERT INTO messaging.deliveries (message_id, mailbox, mailbox_name, position,
                                            sent_at)
           SELECT $1, r.mailbox, r.name, r.position, m.sent_at
           FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS r (mailbox, name, position)
           JOIN messaging.messages m ON m.id = $1""",
        id,
        [mailbox for mailbox, _name in recipients],
        [name for _mailbox, name in recipients],
    )
    try:
        await conn.execute(
            """INSERT INTO messaging.message_attachments (message_id, attachment_id, position)
               SELECT $1, a.id, a.position
               FROM unnest($2::uuid[]) WITH ORDINALITY AS a (id, position)""",
            id,
            attachment_ids,
        )
    except asyncpg.ForeignKeyViolationError as exc:
        # the callers lock the files they attach; should one still be gone, say so
        raise Conflict(
            "a file attached to this message was deleted meanwhile; attach it again",
            code="attachment_deleted",
        ) from exc


async def envelope(conn: asyncpg.Connection, *, id: uuid.UUID) -> Envelope | None:
    """Who sent the message and where it still is; None if there is no such message."""
    record = await conn.fetchrow(f"{_ENVELOPE} WHERE m.id = $1 GROUP BY m.id", id)
    return _envelope(record) if record is not None else None


async def envelopes_carrying(
    conn: asyncpg.Connection, *, attachment_id: uuid.UUID
) -> list[Envelope]:
    """The envelopes of every message that carries the attachment."""
    records = await conn.fetch(
        f"""{_ENVELOPE}
            WHERE m.id IN (SELECT message_id FROM messaging.message_attachments
                           WHERE attachment_id = $1)
            GROUP BY m.id""",
        attachment_id,
    )
    return [_envelope(r) for r in records]


async def get_message(conn: asyncpg.Connection, *, id: uuid.UUID) -> MessageRow | None:
    """The whole message: text, recipients and attachments (without their bytes)."""
    record = await conn.fetchrow(
        f"""SELECT {_SUMMARY_COLUMNS}, m.body, m.order_id,
                   COALESCE((
                       SELECT json_agg(json_build_object(
                                  'id', a.id, 'filename', a.filename,
                                  'content_type', a.content_type, 'size', a.size)
                              ORDER BY x.position)
                       FROM messaging.message_attachments x
                       JOIN messaging.attachments a ON a.id = x.attachment_id
                       WHERE x.message_id = m.id), '[]') AS attachments
            FROM messaging.messages m WHERE m.id = $1""",
        id,
    )
    return None if record is None else MessageRow.of(_message_record(record))


async def list_inbox(
    conn: asyncpg.Connection,
    *,
    mailboxes: list[str],
    sub: str,
    limit: int,
    before: tuple[datetime, uuid.UUID] | None = None,
) -> list[MessageSummaryRow]:
    """The caller's inbox, newest first, each message once, unread if unread in any mailbox;
    with `before` (a message's sent_at and id), the messages after it in that order.

    Each mailbox gives its newest `limit` messages (after `before`) from its index
    (deliveries_inbox_by_time); the newest `limit` of the inbox are among them, and a message
    in two of the mailboxes is among the newest of both, so `unread` sees all its deliveries."""
    sent_at, id = before or (None, None)
    records = await conn.fetch(
        f"""WITH mine AS (
                SELECT d.message_id, bool_or(d.read_at IS NULL) AS unread
                FROM unnest($1::text[]) AS b (mailbox)
                CROSS JOIN LATERAL (
                    SELECT d.message_id, d.read_at
                    FROM messaging.deliveries d JOIN messaging.messages m ON m.id = d.message_id
                    WHERE d.mailbox = b.mailbox AND {_IN_INBOX}
                      AND ($4::timestamptz IS NULL
                           OR (d.sent_at, d.message_id) < ($4, $5::uuid))
                    ORDER BY d.sent_at DESC, d.message_id DESC
                    LIMIT $3) d
                GROUP BY d.message_id)
            SELECT {_SUMMARY_COLUMNS}, mine.unread
            FROM mine JOIN messaging.messages m ON m.id = mine.message_id
            ORDER BY m.sent_at DESC, m.id DESC
            LIMIT $3""",
        mailboxes,
        sub,
        limit,
        sent_at,
        id,
    )
    return MessageSummaryRow.many(map(_message_record, records))


async def list_sent(
    conn: asyncpg.Connection,
    *,
    sub: str,
    limit: int,
    before: tuple[datetime, uuid.UUID] | None = None,
) -> list[MessageSummaryRow]:
    """What the caller sent and has not deleted, newest first; with `before`, as list_inbox."""
    sent_at, id = before or (None, None)
    records = await conn.fetch(
        f"""SELECT {_SUMMARY_COLUMNS}, false AS unread FROM messaging.messages m
            WHERE m.sender_sub = $1 AND m.sender_deleted_at IS NULL
              AND ($3::timestamptz IS NULL OR (m.sent_at, m.id) < ($3, $4::uuid))
            ORDER BY m.sent_at DESC, m.id DESC
            LIMIT $2""",
        sub,
        limit,
        sent_at,
        id,
    )
    return MessageSummaryRow.many(map(_message_record, records))


async def unread_count(conn: asyncpg.Connection, *, mailboxes: list[str], sub: str) -> int:
    """How many messages of the caller's inbox are unread (the badge)."""
    return await conn.fetchval(
        f"""SELECT count(DISTINCT d.message_id)
            FROM messaging.deliveries d JOIN messaging.messages m ON m.id = d.message_id
            WHERE {_IN_INBOX} AND d.read_at IS NULL""",
        mailboxes,
        sub,
    )


async def mark_read(
    conn: asyncpg.Connection, *, message_id: uuid.UUID, mailboxes: list[str]
) -> None:
    await conn.execute(
        """UPDATE messaging.deliveries SET read_at = now()
           WHERE message_id = $1 AND mailbox = ANY($2::text[]) AND read_at IS NULL""",
        message_id,
        mailboxes,
    )


async def delete_for(
    conn: asyncpg.Connection, *, message_id: uuid.UUID, mailboxes: list[str], sender: bool
) -> None:
    """Delete the message from these mailboxes, and from the sent folder if `sender`; a message
    nobody holds any more is removed with the files only it carried."""
    # one deletion of a message at a time, so the last one out sees all the others
    await conn.execute("SELECT FROM messaging.messages WHERE id = $1 FOR UPDATE", message_id)
    await conn.execute(
        """UPDATE messaging.deliveries SET deleted_at = now()
           WHERE message_id = $1 AND mailbox = ANY($2::text[]) AND deleted_at IS NULL""",
        message_id,
        mailboxes,
    )
    if sender:
        await conn.execute(
            "UPDATE messaging.messages SET sender_deleted_at = now() WHERE id = $1", message_id
        )
    files = [
        r["attachment_id"]
        for r in await conn.fetch(
            "SELECT attachment_id FROM messaging.message_attachments WHERE message_id = $1",
            message_id,
        )
    ]
    gone = await conn.fetchval(
        """DELETE FROM messaging.messages m
           WHERE m.id = $1
             AND (m.sender_sub IS NULL OR m.sender_deleted_at IS NOT NULL)
             AND NOT EXISTS (SELECT 1 FROM messaging.deliveries d
                             WHERE d.message_id = m.id AND d.deleted_at IS NULL)
           RETURNING true""",
        message_id,
    )
    if gone and files:
        # lock the files first: a message being sent with one of them holds it FOR SHARE
        # until it commits, and the DELETE after the wait then sees that it carries it
        await conn.execute(
            "SELECT FROM messaging.attachments WHERE id = ANY($1::uuid[]) FOR UPDATE", files
        )
        await conn.execute(
            f"""DELETE FROM messaging.attachments a
               WHERE a.id = ANY($1::uuid[])
                 AND {_CARRIED_BY_NONE}""",
            files,
        )


async def delete_older_than(
    conn: asyncpg.Connection, *, retention: timedelta, unsent_upload_age: timedelta
) -> tuple[int, int]:
    """Remove messages older than `retention` and every file no message carries any more
    (uploads never sent once older than `unsent_upload_age`); return both counts."""
    messages = await conn.execute(
        "DELETE FROM messaging.messages WHERE sent_at < now() - $1::interval", retention
    )
    # a file being attached right now is locked by that send: skipped, seen next time
    files = await conn.execute(
        f"""DELETE FROM messaging.attachments a
           WHERE a.id IN (SELECT id FROM messaging.attachments
                          WHERE uploaded_at < now() - $1::interval FOR UPDATE SKIP LOCKED)
             AND {_CARRIED_BY_NONE}""",
        unsent_upload_age,
    )
    return int(messages.split()[-1]), int(files.split()[-1])
