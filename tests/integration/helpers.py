"""Test data and small steps the integration tests share."""

from __future__ import annotations

import uuid
from datetime import date

import httpx

from lifecare.demo import random_test_personnummer
from tests.integration import personal_data


def test_personnummer() -> str:
    """A fresh 12-digit test personnummer (serial 98x, a valid check digit), born 1930-1945."""
    return random_test_personnummer(born_from=1930, born_to=1945)


async def new_unit(http: httpx.AsyncClient, admin: dict) -> str:
    unit_id = f"unit-{uuid.uuid4().hex[:8]}"
    response = await http.post("/units", json={"id": unit_id, "name": "Testgården"}, headers=admin)
    assert response.status_code == 201, response.text
    return unit_id


async def new_customer(http: httpx.AsyncClient, caseworker: dict, **names: str) -> dict:
    while True:
        response = await http.post(
            "/customers",
            json={
                "personnummer": test_personnummer(),
                "first_name": names.get("first_name", "Greta"),
                "last_name": names.get("last_name", f"Test{uuid.uuid4().hex[:6]}"),
            },
            headers=caseworker,
        )
        if response.status_code != 409:  # a random number may repeat: draw again
            assert response.status_code == 201, response.text
            personal_data.remember(response.json())  # searched for in the logs at the end
            return response.json()


async def new_order(
    http: httpx.AsyncClient, caseworker: dict, customer: dict, unit_id: str, decided: date
) -> dict:
    response = await http.post(
        "/orders",
        json={
            "customer_id": customer["id"],
            "unit_id": unit_id,
            "service": "sol_boende",
            "decision_date": str(decided),
            "text": "Beviljas särskilt boende.",
        },
        headers=caseworker,
    )
    assert response.status_code == 201, response.text
    return response.json()
