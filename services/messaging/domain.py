"""The rules of the secure inbox: mailboxes, who reads what, replies, and which files pass."""

from __future__ import annotations

import io
import re
import unicodedata
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from services.common.auth import Principal, Role
from services.common.dates import STOCKHOLM
from services.common.errors import Conflict, Invalid, PayloadTooLarge, UnsupportedMediaType

SYSTEM_SENDER = "Lifecare"
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024  # 10 MB
# an upload nobody attached to a message is kept at most this long (less if retention is less)
UNSENT_UPLOAD_AGE = timedelta(days=1)
# a retention shorter than this is a mistake that would empty every inbox
MIN_RETENTION = timedelta(hours=1)


class MailboxKind(StrEnum):
    group = "group"
    unit = "unit"
    user = "user"


@dataclass(frozen=True)
class Group:
    key: str
    name: str
    role: Role


GROUPS = (
    Group("bosam", "Bosam SÄF", Role.coordinator),
    Group("avgifter", "Avgifter", Role.fee_admin),
    Group("bistand", "Bistånd", Role.caseworker),
)
_GROUP_BY_KEY = {g.key: g for g in GROUPS}
_GROUP_BY_ROLE = {g.role: g for g in GROUPS}


@dataclass(frozen=True)
class Mailbox:
    kind: MailboxKind
    key: str

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.key}"


_MAILBOX = re.compile(r"^(group|unit|user):(\S{1,128})$")


def parse_mailbox(text: str) -> Mailbox:
    """Read a mailbox id such as `group:bosam`, `unit:solbacken` or `user:anna`; 422 otherwise."""
    match = _MAILBOX.match(text.strip())
    if not match:
        raise Invalid(
            f"{text!r} is not a mailbox; use group:bosam, group:avgifter, group:bistand, "
            "unit:<unit id> or user:<user id> (search them at GET /mailboxes)",
            code="invalid_mailbox",
        )
    mailbox = Mailbox(MailboxKind(match.group(1)), match.group(2))
    if mailbox.kind == MailboxKind.group and mailbox.key not in _GROUP_BY_KEY:
        raise Invalid(
            f"there is no group mailbox {mailbox.id!r}; the groups are "
            + ", ".join(f"group:{g.key}" for g in GROUPS),
            code="unknown_mailbox",
        )
    return mailbox


def parse_recipients(ids: Iterable[str]) -> list[Mailbox]:
    """The distinct mailboxes of a `to` list, in the order given; at least one."""
    mailboxes = list(dict.fromkeys(parse_mailbox(text) for text in ids))
    if not mailboxes:
        raise Invalid("a message needs at least one recipient", code="no_recipients")
    return mailboxes


def name_recipients(
    mailboxes: list[Mailbox], known: dict[str, str], *, strict: bool
) -> list[tuple[str, str]]:
    """Each mailbox with its name: groups by their own, units and people as `known` has them.

    `strict` (a person writing) refuses a mailbox nobody knows; the platform's notices go
    where they are addressed, named by their id until the directory knows them.
    """
    unknown = [m.id for m in mailboxes if m.kind != MailboxKind.group and m.id not in known]
    if strict and unknown:
        raise Invalid(
            f"no such mailbox: {', '.join(unknown)} (search them at GET /mailboxes)",
            code="unknown_mailbox",
        )
    return [
        (m.id, _GROUP_BY_KEY[m.key].name if m.kind == MailboxKind.group else known.get(m.id, m.key))
        for m in mailboxes
    ]


def search_groups(text: str | None) -> list[Group]:
    """The group mailboxes whose id or name contains `text` (all without one)."""
    needle = (text or "").strip().casefold()
    return [g for g in GROUPS if needle in f"group:{g.key}" or needle in g.name.casefold()]


# --- whose inbox, who reads ----------------------------------------------------------------


def personal_mailbox(sub: str) -> str:
    return f"user:{sub}"


def inbox_of(caller: Principal) -> list[str]:
    """The mailboxes a caller's inbox shows: their own, their unit's and their role's group."""
    mailboxes = [personal_mailbox(caller.sub)]
    if caller.provider_unit:
        mailboxes.append(f"unit:{caller.provider_unit}")
    group = _GROUP_BY_ROLE.get(caller.role)
    if group is not None:
        mailboxes.append(f"group:{group.key}")
    return mailboxes


@dataclass(frozen=True)
class Envelope:
    """Who sent a message and the mailboxes that still hold it (not deleted there)."""

    sender_sub: str | None  # None: a notice from the platform itself
    sender_deleted: bool
    mailboxes: tuple[str, ...]
    customer_id: uuid.UUID | None = None  # the customer it concerns, when known (audit)


def in_inbox(caller: Principal, *, sender_sub: str | None, mailbox: str) -> bool:
    """Whether a delivery to `mailbox` shows in the caller's inbox.

    One's own message to a shared mailbox one belongs to is in one's sent folder, not
    (unread) in one's inbox; one sent to oneself personally is in both.
    """
    if mailbox not in inbox_of(caller):
        return False
    return sender_sub != caller.sub or mailbox == personal_mailbox(caller.sub)


def my_deliveries(caller: Principal, envelope: Envelope) -> list[str]:
    """The caller's mailboxes that hold the message: reading or deleting acts on these."""
    return [
        m for m in envelope.mailboxes if in_inbox(caller, sender_sub=envelope.sender_sub, mailbox=m)
    ]


def is_sender(caller: Principal, envelope: Envelope) -> bool:
    return envelope.sender_sub == caller.sub and not envelope.sender_deleted


def may_read(caller: Principal, envelope: Envelope) -> bool:
    """Only the sender and the recipients read a message; to anyone else it does not exist."""
    return is_sender(caller, envelope) or bool(my_deliveries(caller, envelope))


def may_download(caller: Principal, *, owner_sub: str, carried_by: Iterable[Envelope]) -> bool:
    """A file is the uploader's, and the readers' of any message that carries it."""
    return owner_sub == caller.sub or any(may_read(caller, e) for e in carried_by)


# --- reply and forward ---------------------------------------------------------------------


def reply_recipients(
    caller: Principal, *, sender_sub: str | None, recipients: Iterable[str], all: bool
) -> list[str]:
    """Whom a reply goes to: the sender, and with `all` every recipient too, never oneself."""
    if sender_sub is None:
        raise Conflict(
            f"a notice from {SYSTEM_SENDER} cannot be answered; forward it instead",
            code="notice_cannot_be_answered",
        )
    to = [personal_mailbox(sender_sub), *(recipients if all else ())]
    mine = personal_mailbox(caller.sub)
    answer = [m for m in dict.fromkeys(to) if m != mine]
    if not answer:
        raise Invalid("there is nobody else to answer", code="no_recipients")
    return answer


def _prefixed(prefix: str, subject: str) -> str:
    return subject if subject.casefold().startswith(prefix.casefold()) else f"{prefix}{subject}"


def reply_subject(subject: str) -> str:
    """`Sv: <subject>`, not doubled on a reply to a reply."""
    return _prefixed("Sv: ", subject)


def forward_subject(subject: str) -> str:
    """`Vb: <subject>` (vidarebefordrat)."""
    return _prefixed("Vb: ", subject)


def local_time(at: datetime) -> str:
    """A timestamp as people in Sweden read it: `2026-03-01 14:05`."""
    return at.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M")


# how much of the original's body a reply or a forward quotes
QUOTED_CHARS = 4_000


def quoted(
    text: str,
    *,
    body: str,
    sender_name: str,
    sent_at: datetime,
    recipients: Iterable[str],
    subject: str,
) -> str:
    """The new `text` followed by the original message, as a reply or forward carries it;
    of the original's body only the first `QUOTED_CHARS` characters, so a thread's replies do
    not grow without bound (the whole thread stays in the messages it is made of)."""
    if len(body) > QUOTED_CHARS:
        body = body[:QUOTED_CHARS].rstrip() + "\n[…]"
    original = (
        "----- Ursprungligt meddelande -----\n"
        f"Från: {sender_name}\nSkickat: {local_time(sent_at)}\n"
        f"Till: {', '.join(recipients)}\nÄmne: {subject}\n\n{body}"
    )
    return f"{text}\n\n{original}" if text.strip() else original


# --- attachments ---------------------------------------------------------------------------


class FileKind(StrEnum):
    pdf = "pdf"
    docx = "docx"
    odt = "odt"
    txt = "txt"
    png = "png"
    jpeg = "jpeg"


CONTENT_TYPES = {
    FileKind.pdf: "application/pdf",
    FileKind.docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    FileKind.odt: "application/vnd.oasis.opendocument.text",
    FileKind.txt: "text/plain; charset=utf-8",
    FileKind.png: "image/png",
    FileKind.jpeg: "image/jpeg",
}
_EXTENSIONS = {
    "pdf": FileKind.pdf,
    "docx": FileKind.docx,
    "odt": FileKind.odt,
    "txt": FileKind.txt,
    "png": FileKind.png,
    "jpg": FileKind.jpeg,
    "jpeg": FileKind.jpeg,
}
ALLOWED = "PDF, DOCX, ODT, TXT, PNG and JPEG"
_ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"


def safe_filename(name: str | None) -> str:
    """The file's own name without any folder, control characters or excess length."""
    base = re.split(r"[/\\]", name or "")[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip(" .")
    if not base:
        raise Invalid("the file needs a name, e.g. genomforandeplan.pdf", code="missing_filename")
    if len(base) > 200:
        stem, dot, ext = base.rpartition(".")
        base = f"{stem[: 199 - len(ext)]}.{ext}" if dot and len(ext) <= 10 else base[:200]
    return base


def sniff(data: bytes) -> FileKind | None:
    """What the bytes are, by their content alone; None if none of the allowed kinds."""
    if data.startswith(b"%PDF-"):
        return FileKind.pdf
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return FileKind.png
    if data.startswith(b"\xff\xd8\xff"):
        return FileKind.jpeg
    if data.startswith(b"PK\x03\x04"):
        return _sniff_zip(data)
    if b"\x00" not in data:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return FileKind.txt
    return None


def _sniff_zip(data: bytes) -> FileKind | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if "[Content_Types].xml" in names and any(n.startswith("word/") for n in names):
                return FileKind.docx
            if "mimetype" in names and archive.getinfo("mimetype").file_size < 100:
                if archive.read("mimetype").strip() == _ODT_MIMETYPE:
                    return FileKind.odt
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
        return None
    return None


def check_attachment(filename: str, data: bytes) -> FileKind:
    """The kind of an upload whose name and content agree on an allowed type; 415 otherwise."""
    if not data:
        raise Invalid("the file is empty", code="empty_file")
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise too_large()
    extension = filename.rpartition(".")[2].casefold() if "." in filename else ""
    named = _EXTENSIONS.get(extension)
    if named is None:
        raise UnsupportedMediaType(
            f"only {ALLOWED} files can be attached; {filename!r} is none of them",
            code="file_type_not_allowed",
        )
    found = sniff(data)
    if found != named:
        raise UnsupportedMediaType(
            f"the content of {filename!r} is not {named.value.upper()} as its name says; only "
            f"{ALLOWED} files can be attached",
            code="file_content_mismatch",
        )
    return found


def too_large() -> PayloadTooLarge:
    """The refusal of a file over the limit."""
    return PayloadTooLarge(
        f"a file may be at most {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB",
        code="file_too_large",
    )


def check_retention(retention: timedelta) -> None:
    """Refuse a retention so short that it would empty the inboxes as people use them."""
    if retention < MIN_RETENTION:
        raise Invalid(
            f"a message retention of {retention} is shorter than the least, {MIN_RETENTION}",
            code="retention_too_short",
        )


def unsent_upload_age(retention: timedelta) -> timedelta:
    """How old an upload never attached to a message may get before it is removed."""
    return min(retention, UNSENT_UPLOAD_AGE)
