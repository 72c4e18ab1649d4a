"""Request and response bodies of the messaging API, and the payloads of the events it reads."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.common.text import Body, Flag, Subject


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Mailbox(BaseModel):
    id: str | None = Field(description="None for a notice from Lifecare itself")
    name: str


class MailboxHit(Mailbox):
    kind: Literal["group", "unit", "user"]


class Attachment(BaseModel):
    id: uuid.UUID
    filename: str
    content_type: str
    size: int


class MessageIn(Strict):
    to: list[str] = Field(min_length=1, max_length=50, examples=[["group:bosam"]])
    subject: Subject
    body: Body
    attachment_ids: list[uuid.UUID] = Field(default_factory=list, max_length=10)


class ReplyIn(Strict):
    body: Body
    all: Flag = Field(False, description="Answer the sender and every recipient")


class ForwardIn(Strict):
    to: list[str] = Field(min_length=1, max_length=50)
    body: Body = ""


class MessageSummary(BaseModel):
    id: uuid.UUID
    subject: str
    kind: str = Field(description="`message`, or the kind of a notice, e.g. `order.reminder`")
    sender: Mailbox
    to: list[Mailbox]
    sent_at: datetime
    in_reply_to: uuid.UUID | None
    unread: bool
    attachment_count: int


class Message(MessageSummary):
    body: str
    attachments: list[Attachment]


class UnreadCount(BaseModel):
    unread: int
