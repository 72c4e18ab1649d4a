"""The messaging service's use cases: each owns its transaction and its audit rows. Routes
(api.py) and the retention activity's neighbours call these; the rules are in domain.py."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import asyncpg

from services.common import audit
from services.common.auth import Principal
from services.common.db import transaction
from services.common.errors import Conflict, Invalid, NotFound
from services.messaging import domain, repository
from services.messaging.domain import Envelope
from services.messaging.repository import (
    AttachmentFile,
    AttachmentRow,
    MailboxRow,
    MessageRow,
    MessageSummaryRow,
)


async def _seen(conn: asyncpg.Connection, caller: Principal) -> None:
    """Remember the caller in the directory, so others can write to them."""
    await repository.record_person(
        conn,
        sub=caller.sub,
        name=caller.name or caller.sub,
        role=caller.role.value,
        unit=caller.provider_unit,
    )


_audit = audit.AuditLog("messaging").customers


async def _readable(conn: asyncpg.Connection, caller: Principal, message_id: uuid.UUID) -> Envelope:
    """The message's envelope if the caller may read it; 404 for anyone else."""
    envelope = await repository.envelope(conn, id=message_id)
    if envelope is None or not domain.may_read(caller, envelope):
        raise NotFound("no such message", code="message_not_found")
    return envelope


async def _open(
    conn: asyncpg.Connection, caller: Principal, request_id: str, message_id: uuid.UUID, action: str
) -> MessageRow:
    """Read a message: it is marked read in the caller's mailboxes that hold it."""
    envelope = await _readable(conn, caller, message_id)
    await repository.mark_read(
        conn, message_id=message_id, mailboxes=domain.my_deliveries(caller, envelope)
    )
    message = await repository.get_message(conn, id=message_id)
    if message is None:  # deleted by its last holder since its envelope was read
        raise NotFound("no such message", code="message_not_found")
    await _audit(conn, caller, request_id, action, f"message:{message_id}", [envelope.customer_id])
    return message


async def _send(
    conn: asyncpg.Connection,
    caller: Principal,
    *,
    to: list[str],
    subject: str,
    body: str,
    attachment_ids: list[uuid.UUID],
    in_reply_to: uuid.UUID | None = None,
    customer_id: uuid.UUID | None = None,
) -> MessageRow:
    """Write the caller's message to the mailboxes of `to`; return it as the sender sees it.

    `customer_id` names the customer it concerns, as the message it answers or forwards did:
    every read of it is then audited too."""
    await _seen(conn, caller)
    mailboxes = domain.parse_recipients(to)
    known = await repository.mailbox_names(conn, mailboxes=mailboxes)
    message_id = uuid.uuid4()
    await repository.insert_message(
        conn,
        id=message_id,
        sender_sub=caller.sub,
        sender_name=caller.name or caller.sub,
        subject=subject,
        body=body,
        recipients=domain.name_recipients(mailboxes, known, strict=True),
        attachment_ids=list(dict.fromkeys(attachment_ids)),
        in_reply_to=in_reply_to,
        customer_id=customer_id,
    )
    message = await repository.get_message(conn, id=message_id)
    assert message is not None  # written above, in this transaction
    return message


def _quote(text: str, original: MessageRow) -> str:
    return domain.quoted(
        text,
        body=original.body,
        sender_name=original.sender_name,
        sent_at=original.sent_at,
        recipients=[r.name for r in original.recipients],
        subject=original.subject,
    )


# --- mailboxes and attachments ---------------------------------------------------------------


async def search_mailboxes(pool: asyncpg.Pool, *, q: str | None) -> list[MailboxRow]:
    """Recipients by name or id: the group mailboxes, provider units and people."""
    text = q.strip() if q and q.strip() else None
    groups = [
        MailboxRow(id=f"group:{g.key}", name=g.name, kind="group")
        for g in domain.search_groups(text)
    ]
    async with pool.acquire() as conn:
        return groups + await repository.search_mailboxes(conn, text=text, limit=50)


async def upload(
    pool: asyncpg.Pool, caller: Principal, *, filename: str, data: bytes
) -> AttachmentRow:
    """Keep a file the caller will attach, judged by its content."""
    safe = domain.safe_filename(filename)
    kind = domain.check_attachment(safe, data)
    async with transaction(pool) as conn:
        return await repository.insert_attachment(
            conn,
            id=uuid.uuid4(),
            owner_sub=caller.sub,
            filename=safe,
            content_type=domain.CONTENT_TYPES[kind],
            data=data,
        )


async def download(
    pool: asyncpg.Pool, caller: Principal, attachment_id: uuid.UUID
) -> AttachmentFile:
    """The file, for its uploader and the readers of a message that carries it."""
    async with transaction(pool) as conn:
        row = await repository.get_attachment(conn, id=attachment_id)
        carried_by = await repository.envelopes_carrying(conn, attachment_id=attachment_id)
    if row is None or not domain.may_download(
        caller, owner_sub=row.owner_sub, carried_by=carried_by
    ):
        raise NotFound("no such attachment", code="attachment_not_found")
    return row


# --- messages ------------------------------------------------------------------------------


async def send(
    pool: asyncpg.Pool,
    caller: Principal,
    *,
    to: list[str],
    subject: str,
    body: str,
    attachment_ids: list[uuid.UUID],
) -> MessageRow:
    """Send a message to one or several mailboxes, with files the caller uploaded."""
    async with transaction(pool) as conn:
        owned = await repository.owned_attachments(conn, ids=attachment_ids, owner_sub=caller.sub)
        if missing := [str(a) for a in attachment_ids if a not in owned]:
            raise Invalid(
                f"no such attachment of yours: {', '.join(missing)}; upload it first",
                code="unknown_attachment",
            )
        return await _send(
            conn, caller, to=to, subject=subject, body=body, attachment_ids=attachment_ids
        )


async def list_folder(
    pool: asyncpg.Pool,
    caller: Principal,
    request_id: str,
    *,
    folder: str,
    limit: int,
    before: tuple[datetime, uuid.UUID] | None = None,
) -> list[MessageSummaryRow]:
    """The inbox (own, unit and group mailboxes; `unread` per message) or the sent folder:
    `limit` messages older than `before` (sent_at, id), and the first of the next page when
    there is one (not audited: it is not shown)."""
    async with transaction(pool) as conn:
        if folder == "sent":
            rows = await repository.list_sent(conn, sub=caller.sub, limit=limit + 1, before=before)
        else:
            await _seen(conn, caller)
            rows = await repository.list_inbox(
                conn,
                mailboxes=domain.inbox_of(caller),
                sub=caller.sub,
                limit=limit + 1,
                before=before,
            )
        await _audit(
            conn, caller, request_id, "message.list", folder, [r.customer_id for r in rows[:limit]]
        )
    return rows


async def unread_count(pool: asyncpg.Pool, caller: Principal) -> int:
    """How many messages of the inbox are unread: the number on the badge."""
    async with transaction(pool) as conn:
        await _seen(conn, caller)
        return await repository.unread_count(
            conn, mailboxes=domain.inbox_of(caller), sub=caller.sub
        )


async def read(
    pool: asyncpg.Pool,
    caller: Principal,
    request_id: str,
    message_id: uuid.UUID,
    action: str = "message.read",
) -> MessageRow:
    """Read (or print) a message; it is then read for every holder of its mailboxes."""
    async with transaction(pool) as conn:
        return await _open(conn, caller, request_id, message_id, action)


async def reply(
    pool: asyncpg.Pool,
    caller: Principal,
    request_id: str,
    message_id: uuid.UUID,
    *,
    body: str,
    all: bool,
) -> MessageRow:
    """Answer the sender, or with `all` the sender and every recipient."""
    async with transaction(pool) as conn:
        original = await _open(conn, caller, request_id, message_id, "message.read")
        to = domain.reply_recipients(
            caller,
            sender_sub=original.sender_sub,
            recipients=[r.id for r in original.recipients],
            all=all,
        )
        sent = await _send(
            conn,
            caller,
            to=to,
            subject=domain.reply_subject(original.subject),
            body=_quote(body, original),
            attachment_ids=[],
            in_reply_to=message_id,
            customer_id=original.customer_id,
        )
        await _audit(
            conn,
            caller,
            request_id,
            "message.reply",
            f"message:{sent.id}",
            [original.customer_id],
        )
        return sent


async def forward(
    pool: asyncpg.Pool,
    caller: Principal,
    request_id: str,
    message_id: uuid.UUID,
    *,
    to: list[str],
    body: str,
) -> MessageRow:
    """Send the message on to other mailboxes, with its attachments."""
    async with transaction(pool) as conn:
        original = await _open(conn, caller, request_id, message_id, "message.read")
        files = [a.id for a in original.attachments]
        # kept from deletion until this commits; gone already if its last holder deleted it
        if len(await repository.lock_attachments(conn, ids=files)) < len(files):
            raise Conflict(
                "the message was deleted while you forwarded it; nothing was sent",
                code="message_deleted",
            )
        sent = await _send(
            conn,
            caller,
            to=to,
            subject=domain.forward_subject(original.subject),
            body=_quote(body, original),
            attachment_ids=files,
            customer_id=original.customer_id,
        )
        await _audit(
            conn,
            caller,
            request_id,
            "message.forward",
            f"message:{sent.id}",
            [original.customer_id],
        )
        return sent


async def delete(
    pool: asyncpg.Pool, caller: Principal, request_id: str, message_id: uuid.UUID
) -> None:
    """Delete the message from the caller's inbox (for the whole shared mailbox) and sent
    folder; once nobody holds it, it is gone with its files."""
    async with transaction(pool) as conn:
        envelope = await _readable(conn, caller, message_id)
        await repository.delete_for(
            conn,
            message_id=message_id,
            mailboxes=domain.my_deliveries(caller, envelope),
            sender=domain.is_sender(caller, envelope),
        )
        await _audit(
            conn,
            caller,
            request_id,
            "message.delete",
            f"message:{message_id}",
            [envelope.customer_id],
        )


async def delete_old_messages(pool: asyncpg.Pool, *, retention: timedelta) -> tuple[int, int]:
    """The retention (the schedule's activity): delete the messages older than `retention`
    and the files only they carried, in one transaction; how many of each."""
    domain.check_retention(retention)
    async with transaction(pool) as conn:
        return await repository.delete_older_than(
            conn, retention=retention, unsent_upload_age=domain.unsent_upload_age(retention)
        )
