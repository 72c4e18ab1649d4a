"""The printable HTML view of an order (Skriv ut)."""

from __future__ import annotations

from services.common.html import render
from services.orders.domain import format_personnummer
from services.orders.repository import OrderRow

STATUS_SV = {
    "unconfirmed": "Ej bekräftad",
    "confirmed": "Bekräftad",
    "ongoing": "Pågående",
    "ended": "Avslutad",
    "withdrawn": "Återtagen",
}
SERVICE_SV = {"sol_boende": "SoL – Boende"}


def order_page(order: OrderRow) -> str:
    """An HTML page of one order, laid out for paper."""
    rows = [
        ("Kund", f"{order.first_name} {order.last_name}"),
        ("Personnummer", format_personnummer(order.personnummer)),
        ("Kundnummer", order.customer_number),
        ("Insats", SERVICE_SV.get(order.service, order.service)),
        ("Utförare", order.unit_name),
        ("Beslutsdatum", order.decision_date),
        ("Planerat startdatum", order.planned_start_date or "–"),
        ("Status", STATUS_SV.get(order.status, order.status)),
        ("Verkställd från", order.start_date or "–"),
        ("Avslutad", order.end_date or "–"),
    ]
    return render("services.orders", "print_order.html", order=order, rows=rows)
