"""Routes of the messaging service: mailboxes, attachments, messages."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse

from services.common import audit
from services.common.deps import Caller, Pool, RequestId
from services.common.paging import PageParams, pages
from services.messaging import domain, printing, service, uploads
from services.messaging.repository import MessageRow, MessageSummaryRow
from services.messaging.schemas import (
    Attachment,
    ForwardIn,
    Mailbox,
    MailboxHit,
    Message,
    MessageIn,
    MessageSummary,
    ReplyIn,
    UnreadCount,
)

router = APIRouter()
Folder = Annotated[Literal["inbox", "sent"], Query()]
# a folder's page: 100 messages by default, at most 500, newest first by (sent_at, id)
FolderPage = Annotated[
    PageParams, Depends(pages(default=100, maximum=500, shape=("datetime", "uuid")))
]


def _summary(row: MessageSummaryRow | MessageRow, *, unread: bool) -> MessageSummary:
    """A message as a folder shows it: `sender` is the sender's personal mailbox."""
    sub = row.sender_sub
    return MessageSummary(
        id=row.id,
        subject=row.subject,
        kind=row.kind,
        sender=Mailbox(id=domain.personal_mailbox(sub) if sub else None, name=row.sender_name),
        to=[Mailbox(id=r.id, name=r.name) for r in row.recipients],
        sent_at=row.sent_at,
        in_reply_to=row.in_reply_to,
        unread=unread,
        attachment_count=row.attachment_count,
    )


def _message(row: MessageRow) -> Message:
    """A whole message as its reader sees it (never unread: reading marks it read)."""
    return Message.model_validate(
        {
            **dict(_summary(row, unread=False)),
            "body": row.body,
            "attachments": [
                Attachment.model_validate(a, from_attributes=True) for a in row.attachments
            ],
        }
    )


# --- mailboxes -----------------------------------------------------------------------------


@router.get("/mailboxes", response_model=list[MailboxHit], tags=["mailboxes"])
async def search_mailboxes(
    caller: Caller, pool: Pool, q: Annotated[str | None, Query(max_length=100)] = None
) -> list[MailboxHit]:
    """Recipients by name or id: the group mailboxes, provider units and people."""
    rows = await service.search_mailboxes(pool, q=q)
    return [MailboxHit.model_validate(row, from_attributes=True) for row in rows]


# --- attachments ---------------------------------------------------------------------------


@router.post(
    "/attachments",
    status_code=201,
    response_model=Attachment,
    tags=["attachments"],
    openapi_extra=uploads.OPENAPI_UPLOAD,
)
async def upload_attachment(request: Request, caller: Caller, pool: Pool) -> Attachment:
    """Upload a file (multipart field `file`) to attach: at most 10 MB, PDF, DOCX, ODT, TXT,
    PNG or JPEG, judged by its content."""
    upload = await uploads.read_upload(request)
    row = await service.upload(pool, caller, filename=upload.filename, data=upload.data)
    return Attachment.model_validate(row, from_attributes=True)


@router.get("/attachments/{attachment_id}", response_class=Response, tags=["attachments"])
async def download_attachment(attachment_id: uuid.UUID, caller: Caller, pool: Pool) -> Response:
    """The file, for its uploader and the readers of a message that carries it."""
    row = await service.download(pool, caller, attachment_id)
    return Response(
        row.data,
        media_type=row.content_type,
        headers={
            "Content-Disposition": uploads.content_disposition(row.filename),
            "X-Content-Type-Options": "nosniff",
        },
    )


# --- messages ------------------------------------------------------------------------------


@router.post("/messages", status_code=201, response_model=Message, tags=["messages"])
async def send_message(body: MessageIn, caller: Caller, pool: Pool) -> Message:
    """Send a message to one or several mailboxes, with files the caller uploaded."""
    sent = await service.send(
        pool,
        caller,
        to=body.to,
        subject=body.subject,
        body=body.body,
        attachment_ids=body.attachment_ids,
    )
    return _message(sent)


@router.get("/messages", response_model=list[MessageSummary], tags=["messages"])
async def list_messages(
    caller: Caller,
    pool: Pool,
    request_id: RequestId,
    response: Response,
    page: FolderPage,
    folder: Folder = "inbox",
) -> list[MessageSummary]:
    """The inbox (own, unit and group mailboxes; `unread` per message) or the sent folder,
    newest first; `limit` to a page (100, at most 500), the `Link` header's `rel="next"`
    the next (older) page."""
    rows = await service.list_folder(
        pool, caller, request_id, folder=folder, limit=page.limit, before=page.after
    )
    shown = page.page(response, rows, lambda r: (r.sent_at, r.id))
    return [_summary(row, unread=row.unread) for row in shown]


@router.get("/messages/unread-count", response_model=UnreadCount, tags=["messages"])
async def unread_count(caller: Caller, pool: Pool) -> UnreadCount:
    """How many messages of the inbox are unread: the number on the badge."""
    return UnreadCount(unread=await service.unread_count(pool, caller))


@router.get("/messages/{message_id}", response_model=Message, tags=["messages"])
async def read_message(
    message_id: uuid.UUID, caller: Caller, pool: Pool, request_id: RequestId
) -> Message:
    """Read a message; it is then read for every holder of the mailboxes it came through."""
    return _message(await service.read(pool, caller, request_id, message_id))


@router.get("/messages/{message_id}/print", response_class=HTMLResponse, tags=["messages"])
async def print_message(
    message_id: uuid.UUID, caller: Caller, pool: Pool, request_id: RequestId
) -> HTMLResponse:
    """The message as a printable HTML page."""
    message = await service.read(pool, caller, request_id, message_id, "message.print")
    return HTMLResponse(printing.message_page(message))


@router.post(
    "/messages/{message_id}/reply", status_code=201, response_model=Message, tags=["messages"]
)
async def reply(
    message_id: uuid.UUID, body: ReplyIn, caller: Caller, pool: Pool, request_id: RequestId
) -> Message:
    """Answer the sender, or with `all` the sender and every recipient."""
    sent = await service.reply(pool, caller, request_id, message_id, body=body.body, all=body.all)
    return _message(sent)


@router.post(
    "/messages/{message_id}/forward", status_code=201, response_model=Message, tags=["messages"]
)
async def forward(
    message_id: uuid.UUID, body: ForwardIn, caller: Caller, pool: Pool, request_id: RequestId
) -> Message:
    """Send the message on to other mailboxes, with its attachments."""
    sent = await service.forward(pool, caller, request_id, message_id, to=body.to, body=body.body)
    return _message(sent)


@router.delete("/messages/{message_id}", status_code=204, tags=["messages"])
async def delete_message(
    message_id: uuid.UUID, caller: Caller, pool: Pool, request_id: RequestId
) -> Response:
    """Delete the message from the caller's inbox (for the whole shared mailbox) and sent
    folder; once nobody holds it, it is gone with its files."""
    await service.delete(pool, caller, request_id, message_id)
    return Response(status_code=204)


router.include_router(audit.trail_router("messaging"))
