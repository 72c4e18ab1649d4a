"""The printable HTML view of an order (Skriv ut), of the parts asked for."""

from __future__ import annotations

from services.common.html import render
from services.orders.domain import format_personnummer
from services.orders.parts import LIFE_AREAS_SV, PART_HEADINGS
from services.orders.repository import OrderRow
from services.orders.schemas import Parts

STATUS_SV = {
    "unconfirmed": "Ej bekräftad",
    "confirmed": "Bekräftad",
    "ongoing": "Pågående",
    "ended": "Avslutad",
    "withdrawn": "Återtagen",
}
SERVICE_SV = {"sol_boende": "SoL – Boende"}


def order_page(order: OrderRow, parts: Parts, chosen: tuple[str, ...]) -> str:
    """An HTML page of one order, laid out for paper: the order's facts, then each part in
    `chosen` under its Swedish heading."""
    rows = [
        ("Kundnummer", order.customer_number),
        ("Insats", SERVICE_SV.get(order.service, order.service)),
        ("Utförare", order.unit_name),
        ("Beslutsdatum", order.decision_date),
        ("Planerat startdatum", order.planned_start_date or "–"),
        ("Status", STATUS_SV.get(order.status, order.status)),
        ("Verkställd från", order.start_date or "–"),
        ("Avslutad", order.end_date or "–"),
    ]
    customer = parts.customer
    return render(
        "services.orders",
        "print_order.html",
        order=order,
        rows=rows,
        parts=parts,
        chosen=chosen,
        headings=PART_HEADINGS,
        personnummer=format_personnummer(customer.personnummer),
        areas=LIFE_AREAS_SV,
    )
