"""The printable HTML view of a message (Skriv ut)."""

from __future__ import annotations

from services.common.html import render
from services.messaging.domain import SYSTEM_SENDER, local_time
from services.messaging.repository import MessageRow


def message_page(message: MessageRow) -> str:
    """An HTML page of one message, laid out for paper."""
    recipients = ", ".join(r.name for r in message.recipients)
    files = ", ".join(a.filename for a in message.attachments) or "–"
    rows = [
        ("Från", message.sender_name or SYSTEM_SENDER),
        ("Till", recipients),
        ("Skickat", local_time(message.sent_at)),
        ("Ämne", message.subject),
        ("Bifogade filer", files),
    ]
    return render("services.messaging", "print_message.html", message=message, rows=rows)
