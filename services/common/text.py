"""The values every request body shares, read strictly: texts trimmed before they are
checked and free of control characters and bidirectional overrides, calendar dates without a
time or an offset, and booleans that are JSON's true and false only."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, StrictBool, StringConstraints

# C0 and C1 controls (but for tab, newline and carriage return, which free text may hold),
# the bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) and
# lone surrogates: none of them is text a person typed, and the bidi ones can make a name or
# a subject read differently from what it is
_ALWAYS_REFUSED = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_REFUSED_IN_FREE_TEXT = re.compile(f"[{_ALWAYS_REFUSED}]")
_REFUSED_ON_ONE_LINE = re.compile(f"[{_ALWAYS_REFUSED}\t\n\r]")


def _character(text: str, at: int) -> str:
    return f"U+{ord(text[at]):04X} at position {at + 1}"


def one_line(text: str) -> str:
    """A name or subject: no control character (not even a newline), no bidi override."""
    found = _REFUSED_ON_ONE_LINE.search(text)
    if found:
        raise ValueError(
            f"may not hold a control character or a bidirectional override "
            f"({_character(text, found.start())})"
        )
    return text


def free_text(text: str) -> str:
    """A text of several lines: tab and newlines are fine, other controls and bidi overrides
    are not."""
    found = _REFUSED_IN_FREE_TEXT.search(text)
    if found:
        raise ValueError(
            f"may not hold a control character or a bidirectional override "
            f"({_character(text, found.start())})"
        )
    return text


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(one_line),
]
"""A person's or a unit's name: trimmed, not empty, at most 100 characters, one line."""

UnitName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(one_line),
]
Subject = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(one_line),
]
"""A message's subject: trimmed, not empty, at most 200 characters, one line."""

Description = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
    AfterValidator(free_text),
]
"""A short description (an absence): trimmed, not empty, at most 500 characters."""

Reason = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000),
    AfterValidator(free_text),
]
"""A reason given for a step (a withdrawal): trimmed, not empty, at most 2 000 characters."""

FreeText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000),
    AfterValidator(free_text),
]
"""An order's text: trimmed, not empty, at most 20 000 characters, lines allowed."""

Body = Annotated[str, StringConstraints(max_length=20_000), AfterValidator(free_text)]
"""A message's body: may be empty, at most 20 000 characters, lines allowed."""


def _calendar_date(value: object) -> object:
    """Only `YYYY-MM-DD` (or a date): a time or an offset is refused, not cut off."""
    if isinstance(value, datetime):
        raise ValueError("a date without a time, YYYY-MM-DD")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value, re.ASCII):
        return value
    raise ValueError("a date as YYYY-MM-DD, without a time or an offset")


Day = Annotated[
    date,
    BeforeValidator(_calendar_date, json_schema_input_type=str),
    Field(json_schema_extra={"format": "date"}),
]
"""A calendar date as `YYYY-MM-DD`; `2026-01-01T10:00` or an offset is a 422."""

Flag = StrictBool
"""JSON's true or false; `"yes"`, `1` or `"true"` is a 422."""
