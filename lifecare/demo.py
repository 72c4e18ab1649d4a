"""Demo data for a newcomer: two units, a few customers, one unconfirmed order, and the
demo people's memberships in the identity service."""

from __future__ import annotations

import random
import time
from datetime import date, timedelta

import httpx

from services.common.dates import today_in_stockholm
from services.orders.domain import luhn_check_digit

UNITS = [
    ("solbacken", "Solbackens äldreboende"),
    ("ekbacken", "Ekbackens vård- och omsorgsboende"),
]
# the demo people (sub, name, role, unit): whom the welcome says to sign in as, and Ulla,
# the access administrator of the first unit; Anna works at both units
STAFF = [
    ("cecilia", "Cecilia Caseworker", "caseworker", None),
    ("anna", "Anna Provider", "provider", UNITS[0][0]),
    ("anna", "Anna Provider", "provider", UNITS[1][0]),
    ("bo", "Bo Coordinator", "coordinator", None),
    ("frida", "Frida Fee Admin", "fee_admin", None),
    ("adam", "Adam Admin", "admin", None),
    ("ulla", "Ulla Unit Admin", "unit_admin", UNITS[0][0]),
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


def random_test_personnummer(
    rng: random.Random | None = None, born_from: int = 1925, born_to: int = 1945
) -> str:
    """A random 12-digit test personnummer: born in the years given, serial 98x (the range
    Skatteverket keeps for test numbers), a valid check digit. The one generator of the
    demo data, the tests and the benches."""
    rng = rng or random.Random()
    first, last = date(born_from, 1, 1), date(born_to, 12, 31)
    born = first + timedelta(days=rng.randrange((last - first).days + 1))
    return test_personnummer(born.strftime("%Y%m%d"), f"98{rng.randrange(10)}")


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
            decided = today_in_stockholm() - timedelta(days=5)
            http.post(
                "/orders",
                json={
                    "customer_id": customers[0]["id"],
                    "unit_id": UNITS[0][0],
                    "service": "sol_boende",
                    "decision_date": str(decided),
                    "text": "Kunden beviljas särskilt boende för äldre (SoL – Boende).",
                    "parts": demo_parts(decided),
                },
                headers=as_caseworker,
            ).raise_for_status()
        return True


def demo_parts(decided: date) -> dict:
    """The parts of the demo order: a decision under 4 kap. 1 § SoL, where Astrid lives now,
    her daughter and her god man, and her needs by IBIC life area (all of them fictional;
    the phone numbers lie in the range PTS keeps for fiction, 070-174 06 05 to 99)."""
    return {
        "decision": {
            "intervention": "Särskilt boende för äldre",
            "legal_ground": "4 kap. 1 § SoL",
            "valid_from": str(decided),
        },
        "customer": {
            "address": {"street": "Exempelgatan 4", "postal_code": "136 40", "city": "Haninge"},
            "phone": "070-174 06 05",
        },
        "contacts": [
            {"name": "Karin Lindqvist", "relation": "Dotter", "phone": "070-174 06 06"},
            {"name": "Per Ahlgren", "relation": "God man", "phone": "070-174 06 07"},
        ],
        "needs": [
            {
                "area": "self_care",
                "description": "Behöver hjälp med dusch och påklädning morgon och kväll.",
                "goal": "Känner sig ren och välklädd och väljer själv sina kläder.",
            },
            {
                "area": "mobility",
                "description": "Går med rollator inomhus, behöver stöd i trappor och utomhus.",
                "goal": "Kan gå till matsalen på egen hand och ut på promenad en gång om dagen.",
            },
            {
                "area": "safety",
                "description": "Blir orolig på kvällen och vill veta att personal finns nära.",
                "goal": "Känner sig trygg och sover gott om natten.",
            },
            {
                "area": "community_life",
                "description": "Har sjungit i kör i hela sitt liv och saknar det.",
                "goal": "Deltar i boendets sångstund varje vecka.",
            },
        ],
    }


# 2025 and 2026 tariffs in kronor: food as Haninge charges, care at most the maxtaxa
TARIFFS = [
    {"kind": "food", "monthly_amount": "4000.00", "valid_from": "2025-01-01"},
    {"kind": "care_max", "monthly_amount": "2642.00", "valid_from": "2025-01-01"},
    {"kind": "food", "monthly_amount": "4000.00", "valid_from": "2026-01-01"},
    {"kind": "care_max", "monthly_amount": "2660.00", "valid_from": "2026-01-01"},
]
# the demo customers' monthly care fees, as their fee decisions set them from 2026
CARE_FEES = ["2660.00", "2660.00", "1850.00", "2660.00", "1200.00"]


def seed_billing(
    billing_url: str, orders_url: str, *, admin: str, fee_admin: str, wait: float = 30
) -> None:
    """The tariffs, and a fee decision for each demo customer who has none (idempotent).

    Billing learns the customers from the orders service's events: wait for each."""
    as_admin = {"Authorization": f"Bearer {admin}"}
    as_fee_admin = {"Authorization": f"Bearer {fee_admin}"}
    with (
        httpx.Client(base_url=billing_url, timeout=30) as billing,
        httpx.Client(base_url=orders_url, timeout=30) as orders,
    ):
        billing.put("/tariffs", json=TARIFFS, headers=as_fee_admin).raise_for_status()
        for (birth, serial, _first, _last), care in zip(CUSTOMERS, CARE_FEES, strict=True):
            found = orders.get(
                "/customers", params={"q": test_personnummer(birth, serial)}, headers=as_admin
            ).raise_for_status()
            for customer in found.json()[:1]:
                decisions = billing.get(
                    "/fee-decisions", params={"customer_id": customer["id"]}, headers=as_admin
                ).raise_for_status()
                if not decisions.json():
                    _decide(billing, as_fee_admin, customer["id"], care, wait)


def _decide(billing: httpx.Client, headers: dict, customer_id: str, care: str, wait: float) -> None:
    deadline = time.monotonic() + wait
    while True:
        response = billing.post(
            "/fee-decisions",
            json={
                "customer_id": customer_id,
                "care_monthly_amount": care,
                "valid_from": "2026-01-01",
            },
            headers=headers,
        )
        if response.status_code != 422 or time.monotonic() > deadline:
            response.raise_for_status()
            return
        time.sleep(0.5)  # not known to billing yet: customer.created is on its way


def seed_identity(identity_url: str, *, admin: str) -> int:
    """The demo people's memberships, those missing added (idempotent); how many were."""
    as_admin = {"Authorization": f"Bearer {admin}"}
    added = 0
    with httpx.Client(base_url=identity_url, timeout=30) as identity:
        for sub, name, role, unit in STAFF:
            body = {"sub": sub, "name": name, "role": role, "unit": unit}
            response = identity.post("/memberships", json=body, headers=as_admin)
            if response.status_code == 409:  # there from an earlier `make up`
                continue
            response.raise_for_status()
            added += 1
    return added
