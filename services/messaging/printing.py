"""The printable HTML view of a message (Skriv ut)."""

from __future__ import annotations

from html import escape

from services.messaging.domain import SYSTEM_SENDER, local_time


def message_page(message: dict) -> str:
    """An HTML page of one message, laid out for paper."""
    recipients = ", ".join(r["name"] for r in message["recipients"])
    files = ", ".join(a["filename"] for a in message["attachments"]) or "–"
    rows = [
        ("Från", message["sender_name"] or SYSTEM_SENDER),
        ("Till", recipients),
        ("Skickat", local_time(message["sent_at"])),
        ("Ämne", message["subject"]),
        ("Bifogade filer", files),
    ]
    cells = "\n".join(
        f"<tr><th>{escape(label)}</th><td>{escape(str(value))}</td></tr>" for label, value in rows
    )
    body = escape(message["body"]).replace("\n", "<br>\n")
    return f"""<!doctype html>
<html lang="sv">
<head>
<meta charset="utf-8">
<title>Meddelande: {escape(message["subject"])}</title>
<style>
  body {{ font-family: sans-serif; margin: 2em; }}
  th {{ text-align: left; padding-right: 2em; vertical-align: top; }}
  .body {{ margin-top: 1.5em; }}
  @media print {{ button {{ display: none; }} }}
</style>
</head>
<body>
<h1>Meddelande</h1>
<table>
{cells}
</table>
<div class="body"><p>{body}</p></div>
<button onclick="window.print()">Skriv ut</button>
</body>
</html>
"""
