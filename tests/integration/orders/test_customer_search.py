"""Customer search at a city's scale: a part of a name anywhere in it, a personnummer in any
format and a customer number are each found through an index (pg_trgm for the names)."""

from __future__ import annotations

import secrets
import string
from typing import Any

import asyncpg

from services.orders import repository
from tests.integration.helpers import new_customer


def _letters(n: int) -> str:
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(n))


async def _names(http, caseworker: dict, q: str) -> list[str]:
    found = await http.get("/customers", params={"q": q}, headers=caseworker)
    assert found.status_code == 200, found.text
    return [f"{c['first_name']} {c['last_name']}" for c in found.json()]


async def test_a_part_in_the_middle_of_a_name_finds_the_customer(http, as_):
    caseworker = as_("caseworker")
    middle = _letters(6)
    last = f"Lind{middle}qvist"
    await new_customer(http, caseworker, first_name="Margareta", last_name=last)
    await new_customer(http, caseworker, first_name="Sven", last_name=f"Berg{_letters(6)}")

    assert await _names(http, caseworker, middle) == [f"Margareta {last}"]
    assert await _names(http, caseworker, middle.upper()) == [f"Margareta {last}"]
    # across first and last name, in either order, as a person types it
    assert await _names(http, caseworker, f"reta Lind{middle[:2]}") == [f"Margareta {last}"]
    assert await _names(http, caseworker, f"{middle}qvist Marg") == [f"Margareta {last}"]
    assert await _names(http, caseworker, f"Sven Lind{middle}") == []


async def test_personnummer_in_any_format_and_customer_number(http, as_):
    caseworker = as_("caseworker")
    customer = await new_customer(http, caseworker, last_name=f"Holm{_letters(6)}")
    pnr, number = customer["personnummer"], customer["customer_number"]
    for q in (pnr, f"{pnr[:8]}-{pnr[8:]}", pnr[2:], f"{pnr[2:8]}-{pnr[8:]}", f" {pnr[2:]} "):
        found = await http.get("/customers", params={"q": q}, headers=caseworker)
        assert [c["id"] for c in found.json()] == [customer["id"]], q
    found = await http.get("/customers", params={"q": number}, headers=caseworker)
    assert [c["id"] for c in found.json()] == [customer["id"]]


class _Recorder:
    """Keeps the statement a repository function sends, instead of sending it."""

    sql = ""
    args: tuple[Any, ...] = ()

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        self.sql, self.args = sql, args
        return []


async def _plan(pool: asyncpg.Pool, **search: Any) -> str:
    recorder = _Recorder()
    await repository.search_customers(recorder, unit=None, **search)  # type: ignore[arg-type]
    async with pool.acquire() as conn, conn.transaction():
        # a test database holds few customers, where a scan of them all is cheapest; with
        # scans made dear the plan shows whether an index can answer the search at all
        await conn.execute("SET LOCAL enable_seqscan = off")
        rows = await conn.fetch(f"EXPLAIN {recorder.sql}", *recorder.args)
    return "\n".join(row[0] for row in rows)


async def test_each_kind_of_search_can_be_answered_by_an_index(pool):
    by_name = await _plan(pool, text="ndqvi", personnummer=None)
    assert "customers_name_trgm" in by_name and "customers_name_reversed_trgm" in by_name
    assert "Seq Scan" not in by_name
    by_number = await _plan(pool, text="100042", personnummer=None)
    assert "customers_customer_number_key" in by_number and "Seq Scan" not in by_number
    by_pnr = await _plan(pool, text="19121212-1212", personnummer="191212121212")
    assert "customers_personnummer_key" in by_pnr and "Seq Scan" not in by_pnr
