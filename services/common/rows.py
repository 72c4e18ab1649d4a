"""Typed rows: what a repository returns instead of a dict of strings."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any, Self


@dataclasses.dataclass(frozen=True, slots=True)
class Row:
    """Base of every repository's row type: a frozen dataclass made from a database record.

    Columns the dataclass does not name are ignored, so a `SELECT *` that grows a column
    does not break a reader; a missing column is a `TypeError` at the repository, not a
    `KeyError` far away in a route.
    """

    @classmethod
    def of(cls, record: Mapping[str, Any]) -> Self:
        """The row of one record (an `asyncpg.Record` or any mapping)."""
        names = _field_names(cls)
        return cls(**{name: record[name] for name in names if name in record})

    @classmethod
    def maybe(cls, record: Mapping[str, Any] | None) -> Self | None:
        """The row of a record that may be missing."""
        return None if record is None else cls.of(record)

    @classmethod
    def many(cls, records: Iterable[Mapping[str, Any]]) -> list[Self]:
        """The rows of many records, in order."""
        return [cls.of(record) for record in records]

    def as_dict(self) -> dict[str, Any]:
        """The row's fields as a dict, e.g. to build a pydantic answer from it."""
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}


def _field_names(cls: type[Row]) -> tuple[str, ...]:
    return tuple(field.name for field in dataclasses.fields(cls))
