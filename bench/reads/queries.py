"""The reads the bench measures: for each, the service's request, who asks, and the SQL the
service runs for it, taken from the service's own repository function (a connection that
records instead of sending), so that the floor and the plans use the very query text of
this commit, never a copy of it."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.absence import domain as absence_domain
from services.absence import repository as absence_repository
from services.common.auth import Role
from services.common.dates import today_in_stockholm
from services.common.settings import Settings
from services.messaging import domain as messaging_domain
from services.messaging import repository as messaging_repository
from services.orders import domain as orders_domain
from services.orders import repository as orders_repository
from services.orders import service as orders_service

BIG_UNIT = "bench-big"
PAGE = 25  # orders per page, as the web UI's lists ask for them


class Recorder:
    """Stands in for an asyncpg connection: keeps the statement and its arguments."""

    sql: str = ""
    args: tuple[Any, ...] = ()

    async def _keep(self, sql: str, *args: Any) -> Any:
        self.sql, self.args = sql, args
        return None

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        await self._keep(sql, *args)
        return []

    fetchrow = _keep

    async def fetchval(self, sql: str, *args: Any) -> int:
        await self._keep(sql, *args)
        return 0


async def statement(
    function: Callable[..., Awaitable[Any]], **arguments: Any
) -> tuple[str, tuple[Any, ...]]:
    """The SQL and arguments a repository function sends for these arguments."""
    recorder = Recorder()
    await function(recorder, **arguments)
    return recorder.sql, recorder.args


@dataclass(frozen=True)
class Caller:
    """Who asks: the token's claims, and what the SQL is given for them."""

    role: Role
    unit: str | None = None

    def sub(self, client: int) -> str:
        return f"bench-{self.role.value}-{client}"


PROVIDER = Caller(Role.provider, BIG_UNIT)
CASEWORKER = Caller(Role.caseworker)
COORDINATOR = Caller(Role.coordinator)


@dataclass(frozen=True)
class Query:
    name: str
    service: str
    path: str
    caller: Caller
    # a request's query string: from the samples (search texts), the same every time else
    params: Callable[[Samples], dict[str, str]]
    # the SQL the service sends for the request: (query string, who) -> (sql, args)
    sql: Callable[[dict[str, str], str, Settings], Awaitable[tuple[str, tuple[Any, ...]]]]
    # the floor answers with one value (fetchval) instead of rows
    scalar: bool = False


@dataclass
class Samples:
    """Search texts drawn from the seeded customers, taken in turn by the requests."""

    names: list[str]
    personnummer: list[str]
    numbers: list[str]

    def pick(self, kind: str) -> str:
        return random.choice(getattr(self, kind))


def name_parts(first: str, last: str, rng: random.Random) -> str:
    """A part of a name as a person types it: the middle of the last name, the start of the
    first, or the first name and the start of the last."""
    kind = rng.random()
    if kind < 0.5 and len(last) >= 6:
        start = rng.randint(1, len(last) - 5)
        return last[start : start + rng.randint(4, 5)]
    if kind < 0.75:
        return first.split()[0][:4]
    return f"{first.split()[0]} {last[:3]}"


def formats(personnummer: str, rng: random.Random) -> str:
    """A stored personnummer as a person may type it: 12 or 10 digits, with or without '-'."""
    twelve = personnummer
    return rng.choice(
        [twelve, f"{twelve[:8]}-{twelve[8:]}", twelve[2:], f"{twelve[2:8]}-{twelve[8:]}"]
    )


def _visible_since(settings: Settings) -> date:
    return orders_service.visible_since(settings)


async def _orders_sql(status: str, params: dict[str, str], sub: str, settings: Settings):  # type: ignore[no-untyped-def]
    return await statement(
        orders_repository.list_orders,
        statuses=list(orders_domain.STATUS_FILTER[status]),
        text=None,
        personnummer=None,
        unit=BIG_UNIT,
        limit=int(params["limit"]),
        offset=0,
        withdrawn=False,
    )


async def _customers_sql(params: dict[str, str], sub: str, settings: Settings):  # type: ignore[no-untyped-def]
    text, personnummer = orders_service.search_terms(params["q"])
    return await statement(
        orders_repository.search_customers,
        text=text,
        personnummer=personnummer,
        unit=None,
        ids=None,
        visible_since=_visible_since(settings),
    )


async def _absence_sql(params: dict[str, str], sub: str, settings: Settings):  # type: ignore[no-untyped-def]
    today = today_in_stockholm()
    return await statement(
        absence_repository.list_absences,
        unit=BIG_UNIT,
        customer_id=None,
        current_on=today,
        period_from=None,
        period_to=None,
        visible_since=absence_domain.visible_since(today, settings.customer_visible_after_end),
    )


def _inbox(sub: str) -> list[str]:
    return [messaging_domain.personal_mailbox(sub), "group:bosam"]


async def _inbox_sql(params: dict[str, str], sub: str, settings: Settings):  # type: ignore[no-untyped-def]
    return await statement(
        messaging_repository.list_inbox, mailboxes=_inbox(sub), sub=sub, limit=100
    )


async def _unread_sql(params: dict[str, str], sub: str, settings: Settings):  # type: ignore[no-untyped-def]
    return await statement(messaging_repository.unread_count, mailboxes=_inbox(sub), sub=sub)


QUERIES: tuple[Query, ...] = (
    Query(
        "box of unconfirmed orders",
        "orders",
        "/orders",
        PROVIDER,
        lambda s: {"status": "unconfirmed", "limit": str(PAGE)},
        lambda p, sub, st: _orders_sql("unconfirmed", p, sub, st),
    ),
    Query(
        "confirmed orders",
        "orders",
        "/orders",
        PROVIDER,
        lambda s: {"status": "confirmed", "limit": str(PAGE)},
        lambda p, sub, st: _orders_sql("confirmed", p, sub, st),
    ),
    Query(
        "customer by part of a name",
        "orders",
        "/customers",
        CASEWORKER,
        lambda s: {"q": s.pick("names")},
        _customers_sql,
    ),
    Query(
        "customer by personnummer",
        "orders",
        "/customers",
        CASEWORKER,
        lambda s: {"q": s.pick("personnummer")},
        _customers_sql,
    ),
    Query(
        "customer by customer number",
        "orders",
        "/customers",
        CASEWORKER,
        lambda s: {"q": s.pick("numbers")},
        _customers_sql,
    ),
    Query(
        "current absence",
        "absence",
        "/absences",
        PROVIDER,
        lambda s: {"current": "true"},
        _absence_sql,
    ),
    Query(
        "inbox (Bosam SÄF)",
        "messaging",
        "/messages",
        COORDINATOR,
        lambda s: {"folder": "inbox"},
        _inbox_sql,
    ),
    Query(
        "unread count",
        "messaging",
        "/messages/unread-count",
        COORDINATOR,
        lambda s: {},
        _unread_sql,
        scalar=True,
    ),
)

BY_NAME = {query.name: query for query in QUERIES}
