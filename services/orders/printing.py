"""The printable HTML view of an order (Skriv ut)."""

from __future__ import annotations

from html import escape

from services.orders.domain import format_personnummer

STATUS_SV = {
    "unconfirmed": "Ej bekräftad",
    "confirmed": "Bekräftad",
    "ongoing": "Pågående",
    "ended": "Avslutad",
    "withdrawn": "Återtagen",
}
SERVICE_SV = {"sol_boende": "SoL – Boende"}


def order_page(order: dict) -> str:
    """An HTML page of one order, laid out for paper."""
    rows = [
        ("Kund", f"{order['first_name']} {order['last_name']}"),
        ("Personnummer", format_personnummer(order["personnummer"])),
        ("Kundnummer", order["customer_number"]),
        ("Insats", SERVICE_SV.get(order["service"], order["service"])),
        ("Utförare", order["unit_name"]),
        ("Beslutsdatum", order["decision_date"]),
        ("Planerat startdatum", order["planned_start_date"] or "–"),
        ("Status", STATUS_SV.get(order["status"], order["status"])),
        ("Verkställd från", order["start_date"] or "–"),
        ("Avslutad", order["end_date"] or "–"),
    ]
    cells = "\n".join(
        f"<tr><th>{escape(label)}</th><td>{escape(str(value))}</td></tr>" for label, value in rows
    )
    text = escape(order["text"]).replace("\n", "<br>\n")
    return f"""<!doctype html>
<html lang="sv">
<head>
<meta charset="utf-8">
<title>Beställning {escape(order["customer_number"])}</title>
<style>
  body {{ font-family: sans-serif; margin: 2em; }}
  th {{ text-align: left; padding-right: 2em; }}
  .text {{ margin-top: 1.5em; white-space: normal; }}
  @media print {{ button {{ display: none; }} }}
</style>
</head>
<body>
<h1>Beställning</h1>
<table>
{cells}
</table>
<div class="text"><h2>Beställningstext</h2><p>{text}</p></div>
<button onclick="window.print()">Skriv ut</button>
</body>
</html>
"""
