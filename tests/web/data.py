"""Test data for the browser tests, made through the services' APIs: units, people who
work there, customers and orders."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta

import httpx
from fastapi import FastAPI

from services.common.auth import Role
from services.common.dates import today_in_stockholm as today
from tests.integration import helpers

# memberships being added for people made by `Staff.person` (which is not async)
PENDING: list[asyncio.Future[dict]] = []


async def people_ready() -> None:
    """Wait until every person made so far holds their memberships (raises if one failed)."""
    while PENDING:
        await PENDING.pop(0)


class Staff:
    """Makes units, the people who sign in at them, and the data they work on."""

    def __init__(self, web_app: FastAPI, as_, web_url: str) -> None:
        self.as_ = as_
        self.orders_url = web_app.state.settings.orders_url
        self.absence_url = web_app.state.settings.absence_url
        self.messaging_url = web_app.state.settings.messaging_url
        self.identity_url = web_app.state.settings.identity_url
        self.tag = uuid.uuid4().hex[:6]

    def api(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.orders_url, timeout=20)

    async def unit(self, name: str = "Solgläntans äldreboende") -> dict:
        """A new unit of this test, named `name` and this test's tag."""
        unit = {"id": f"u-{uuid.uuid4().hex[:8]}", "name": f"{name} {self.tag}"}
        async with self.api() as http:
            response = await http.post("/units", json=unit, headers=self.as_("admin"))
            assert response.status_code == 201, response.text
        return unit

    def person(self, role: Role, *units: str, name: str = "") -> str:
        """A person with `role` (at each of `units`); their user name. They sign in at the
        development provider by it; their memberships are added at the identity service
        as its admin would (on this test's loop: `sign_in` waits for them)."""
        sub = f"{role.value[:4]}{uuid.uuid4().hex[:6]}"
        name = name or f"Test {role.value}"
        for unit in units or (None,):
            adding = asyncio.ensure_future(self.membership(sub, name, role, unit))
            PENDING.append(adding)
        return sub

    async def membership(
        self, sub: str, name: str, role: Role, unit: str | None, **window: str
    ) -> dict:
        """Give `sub` the role (at the unit) at the identity service, as an admin."""
        body = {"sub": sub, "name": name, "role": role.value, "unit": unit, **window}
        async with httpx.AsyncClient(base_url=self.identity_url, timeout=20) as http:
            response = await http.post("/memberships", json=body, headers=self.as_("admin"))
        assert response.status_code == 201, response.text
        return response.json()

    async def settled(self) -> None:
        await people_ready()

    async def customer(self, first_name: str = "Greta", last_name: str | None = None) -> dict:
        async with self.api() as http:
            return await helpers.new_customer(
                http,
                self.as_("caseworker"),
                first_name=first_name,
                last_name=last_name or f"Lind{self.tag}",
            )

    async def order(self, customer: dict, unit: dict, decided: date | None = None) -> dict:
        async with self.api() as http:
            return await helpers.new_order(
                http,
                self.as_("caseworker"),
                customer,
                unit["id"],
                decided or today() - timedelta(days=3),
            )

    async def confirmed(self, customer: dict, unit: dict, start: date | None = None) -> dict:
        """An order of `customer` at `unit`, confirmed to start on `start` (default: 10 days
        ago)."""
        order = await self.order(customer, unit, today() - timedelta(days=20))
        async with self.api() as http:
            response = await http.post(
                f"/orders/{order['id']}/confirm",
                json={"start_date": str(start or today() - timedelta(days=10))},
                headers=self.as_("provider", unit["id"]),
            )
            assert response.status_code == 200, response.text
            return response.json()

    async def absence(self, customer: dict, unit: dict, from_date: date, **fields: str) -> dict:
        """An absence of a customer with a confirmed stay at `unit`, registered as its
        provider (waiting while the absence service learns the stay from the bus)."""
        body = {
            "customer_id": customer["id"],
            "reason": fields.get("reason", "hospital"),
            "description": fields.get("description", "Inlagd på sjukhus"),
            "from_date": str(from_date),
        }
        async with httpx.AsyncClient(base_url=self.absence_url, timeout=20) as http:
            for _ in range(100):
                response = await http.post(
                    "/absences", json=body, headers=self.as_("provider", unit["id"])
                )
                if response.status_code != 404:  # 404: the stay is not known there yet
                    break
                await asyncio.sleep(0.1)
        assert response.status_code == 201, response.text
        return response.json()
