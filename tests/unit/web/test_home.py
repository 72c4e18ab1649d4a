"""The Startsida's names of absent customers: every one shown gets its name, however many."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

from services.web.home import NAMES_PER_CALL, names_of


class _Orders:
    """The orders service's `GET /customers?id=`: at most `limit` customers an answer."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    async def get(self, service: str, path: str, token: str, **params: Any) -> list[Any]:
        assert (service, path) == ("orders", "/customers")
        self.calls.append(list(params["id"]))
        asked = params["id"][: params.get("limit", 100)]
        return [{"id": id, "first_name": "Tolvan", "last_name": id[:8]} for id in asked]


async def test_every_absent_customer_gets_a_name_in_calls_of_a_hundred() -> None:
    orders = _Orders()
    page = SimpleNamespace(api=orders, token="t")
    ids = {str(uuid.uuid4()) for _ in range(250)}

    names = await names_of(page, ids)  # type: ignore[arg-type]

    assert set(names) == ids
    assert [len(call) for call in orders.calls] == [100, 100, 50]
    assert max(len(call) for call in orders.calls) <= NAMES_PER_CALL


async def test_no_absent_customer_asks_for_no_name() -> None:
    orders = _Orders()
    assert await names_of(SimpleNamespace(api=orders, token="t"), set()) == {}  # type: ignore[arg-type]
    assert orders.calls == []
