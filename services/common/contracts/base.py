"""The base of event contracts and the registry of every event type's contract."""

from __future__ import annotations

import uuid
from typing import ClassVar, TypeVar

import asyncpg
from pydantic import BaseModel, ConfigDict

from services.common.bus import add_to_outbox

CONTRACTS: dict[str, type[Contract]] = {}


class Contract(BaseModel):
    """The data of one event type. `TYPE` is the routing key, `VERSION` grows with a change
    that a consumer could not read: adding an optional field keeps the version."""

    model_config = ConfigDict(frozen=True)

    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1

    def payload(self) -> dict[str, object]:
        """The data as the outbox stores it: JSON types only."""
        return self.model_dump(mode="json")


C = TypeVar("C", bound=type[Contract])


def register(cls: C) -> C:
    """Class decorator: make `cls` the one contract of its `TYPE`."""
    if cls.TYPE in CONTRACTS:
        raise ValueError(f"two contracts for {cls.TYPE}: {CONTRACTS[cls.TYPE]} and {cls}")
    CONTRACTS[cls.TYPE] = cls
    return cls


def contract_of(type_: str) -> type[Contract]:
    """The contract of an event type (KeyError for a type without one)."""
    return CONTRACTS[type_]


async def write(
    conn: asyncpg.Connection, *, schema: str, event: Contract, event_id: uuid.UUID | None = None
) -> uuid.UUID:
    """Write `event` into `schema`'s outbox in the caller's transaction, under its type."""
    return await add_to_outbox(
        conn, schema=schema, type=event.TYPE, data=event.payload(), event_id=event_id
    )
