"""Demo data for a newcomer: two units, a few customers, one unconfirmed order."""

from __future__ import annotations

from datetime import timedelta

import httpx

from services.orders.domain import luhn_check_digit, today_in_stockholm

UNITS = [
    ("solbacken", "Solbackens äldreboende"),
    ("ekbacken", "Ekbackens vård- och omsorgsboende"),
]
# Birth dates with serial numbers 98x, the range Skatteverket keeps for test personnummer.
CUSTOMERS = [
    ("19310412", "981", "Astrid", "Lindqvist"),
    ("19350923", "982", "Gunnar", "Holm"),
    ("19380105", "983", "Margit", "Sjöberg"),
    ("19400630", "984", "Karl-Erik", "Nyström"),
    ("19420217", "985", "Birgitta", "Ek"),
]


def test_personnummer(birth: str, serial: str) -> str:
    """A 12-digit personnummer with a valid check digit."""
    return f"{birth}{serial}{luhn_check_digit(birth[2:] + serial)}"


def seed(orders_url: str, *, admin: str, caseworker: str) -> bool:
    """Create the demo data through the API; False if it was there already."""
    with httpx.Client(base_url=orders_url, timeout=30) as http:
        as_admin = {"Authorization": f"Bearer {admin}"}
        as_caseworker = {"Authorization": f"Bearer {caseworker}"}
        if http.get("/orders", headers=as_admin).raise_for_status().json():
            return False
        existing = {u["id"] for u in http.get("/units", headers=as_admin).raise_for_status().json()}
        for unit_id, name in UNITS:
            if unit_id not in existing:
                http.post("/units", json={"id": unit_id, "name": name}, headers=as_admin)
        customers = []
        for birth, serial, first, last in CUSTOMERS:
            personnummer = test_personnummer(birth, serial)
            response = http.post(
                "/customers",
                json={
                    "personnummer": personnummer,
                    "first_name": first,
                    "last_name": last,
                },
                headers=as_caseworker,
            )
            if response.status_code == 201:
                customers.append(response.json())
            else:  # there from an earlier, interrupted seeding
                found = http.get("/customers", params={"q": personnummer}, headers=as_admin)
                customers.extend(found.json()[:1])
        if customers:
            http.post(
                "/orders",
                json={
                    "customer_id": customers[0]["id"],
                    "unit_id": UNITS[0][0],
                    "service": "sol_boende",
                    "decision_date": str(today_in_stockholm() - timedelta(days=5)),
                    "text": "Kunden beviljas särskilt boende för äldre (SoL – Boende).",
                },
                headers=as_caseworker,
            ).raise_for_status()
        return True
