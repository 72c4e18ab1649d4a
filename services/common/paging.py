"""Keyset (cursor) paging, shared by every list of every service.

A list answers a JSON array, as it always did; when more rows follow, the header
`Link: </path?...&cursor=...>; rel="next"` names the next page. A page is a keyset over a
stable order that ends in a unique column, so rows written between two requests never
shift a page: no row is shown twice or skipped. `limit` has a default and a bound (over
it: FastAPI's 422 that names the bound). `offset`, where a list had it, stays as a
deprecated way to reach the first page asked for; its next link is a cursor.

The cursor is the last row's sort key, encrypted and authenticated (AES-GCM, a key derived
from the platform's payload key) with the path and filters of the list as associated data:
it reveals nothing (a sort key may be a name), and a cursor that was altered, made up, or
given to another list or other filters is a 400 `cursor_invalid`, never a wrong page.
"""

import base64
import binascii
import hashlib
import json
import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from fastapi import Query, Request, Response

from services.common.errors import LifecareError
from services.common.payload_codec import read_key
from services.common.settings import Settings

T = TypeVar("T")
CURSOR_MAX_CHARS = 1000
NONCE_BYTES = 12
# the query parameters that move through a list rather than choose it
PAGING_PARAMS = frozenset({"cursor", "limit", "offset"})


class CursorInvalid(LifecareError):
    """A cursor this list did not give out, or gave out for other filters."""

    status = 400
    code = "cursor_invalid"


# the types a sort key's parts may have, by the name a list declares them with
_PARSE: dict[str, Callable[[Any], Any]] = {
    "str": str,
    "int": int,
    "uuid": uuid.UUID,
    "date": date.fromisoformat,
    "datetime": datetime.fromisoformat,
}


def _plain(value: object) -> object:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def cursor_key(settings: Settings) -> bytes:
    """The cursors' own key, derived from the payload key (never that key itself)."""
    payload_key = read_key(settings.payload_key.get_secret_value())
    return hashlib.sha256(b"lifecare-cursor-key:" + payload_key).digest()


def encode(key: bytes, scope: str, values: Sequence[object]) -> str:
    """The opaque cursor of a sort key, bound to the list and filters named by `scope`."""
    nonce = os.urandom(NONCE_BYTES)
    plain = json.dumps([_plain(v) for v in values], separators=(",", ":")).encode()
    sealed = AESGCM(key).encrypt(nonce, plain, scope.encode())
    return base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode()


def decode(key: bytes, scope: str, cursor: str) -> list[Any]:
    """The sort key in a cursor, as JSON values; 400 for any cursor not given out by this
    list with these filters."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):
        raise _refused("it is not a cursor this service gave out") from None
    if len(raw) <= NONCE_BYTES:
        raise _refused("it is not a cursor this service gave out")
    try:
        plain = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], scope.encode())
    except InvalidTag:
        raise _refused("it was changed, or given out for another list or other filters") from None
    values = json.loads(plain)
    if not isinstance(values, list):
        raise _refused("it was given out for another order of this list")
    return values


def typed(values: Sequence[Any], shape: Sequence[str]) -> tuple[Any, ...]:
    """A cursor's sort key as the types of `shape`; 400 when it does not fit them."""
    if len(values) != len(shape):
        raise _refused("it was given out for another order of this list")
    try:
        return tuple(
            None if value is None else _PARSE[kind](value)
            for kind, value in zip(shape, values, strict=True)
        )
    except (TypeError, ValueError):
        raise _refused("it was given out for another order of this list") from None


def _refused(why: str) -> CursorInvalid:
    return CursorInvalid(f"the cursor is not valid here: {why}; start again from the first page")


def scope_of(request: Request) -> str:
    """What a cursor is bound to: the path and the filters, not where the page starts."""
    kept = sorted(
        (name, value)
        for name, value in request.query_params.multi_items()
        if name not in PAGING_PARAMS
    )
    return request.url.path + "?" + urlencode(kept)


@dataclass(frozen=True)
class PageParams:
    """One request's page: its size, the sort key it starts after (None: the first page),
    the deprecated offset, and how to link the next page."""

    limit: int
    after: tuple[Any, ...] | None
    offset: int
    request: Request
    key: bytes
    values: list[Any] | None = None  # the cursor's sort key as it came, before `after_as`

    def after_as(self, shape: Sequence[str]) -> tuple[Any, ...] | None:
        """The sort key to start after, as the types of `shape`, for a list whose order
        depends on its filters (None: the first page)."""
        return None if self.values is None else typed(self.values, shape)

    def next_link(self, values: Sequence[object]) -> str:
        """The path and query of the page after the row whose sort key is `values`."""
        kept = [
            (name, value)
            for name, value in self.request.query_params.multi_items()
            if name not in PAGING_PARAMS
        ]
        cursor = encode(self.key, scope_of(self.request), values)
        query = urlencode([*kept, ("limit", str(self.limit)), ("cursor", cursor)])
        return f"{self.request.url.path}?{query}"

    def page(self, response: Response, rows: Sequence[T], sort_key: Callable[[T], Any]) -> list[T]:
        """The first `limit` of `rows` (asked for `limit + 1`), and the `Link` header of the
        next page when there was one more."""
        shown = list(rows[: self.limit])
        if len(rows) > self.limit:
            response.headers["Link"] = f'<{self.next_link(sort_key(shown[-1]))}>; rel="next"'
        return shown


def pages(
    *, default: int, maximum: int, shape: Sequence[str] | None, offset: bool = False
) -> Callable[..., Any]:
    """A dependency giving a list's `PageParams`: `limit` (default `default`, at most
    `maximum`), `cursor`, and for a list that had it, the deprecated `offset`. `shape`: the
    types of the sort key, or None for a list that reads it with `after_as`."""
    limit_help = f"Rows per page, at most {maximum}."
    cursor_help = "Where the page starts: the cursor in the previous page's `Link` header."

    async def with_offset(
        request: Request,
        limit: Annotated[int, Query(ge=1, le=maximum, description=limit_help)] = default,
        cursor: Annotated[
            str | None, Query(min_length=1, max_length=CURSOR_MAX_CHARS, description=cursor_help)
        ] = None,
        offset: Annotated[
            int,
            Query(
                ge=0,
                le=10_000_000,
                deprecated=True,
                description="Deprecated: rows to skip; follow the `Link` header instead.",
            ),
        ] = 0,
    ) -> PageParams:
        return _params(request, limit, cursor, offset, shape)

    async def without_offset(
        request: Request,
        limit: Annotated[int, Query(ge=1, le=maximum, description=limit_help)] = default,
        cursor: Annotated[
            str | None, Query(min_length=1, max_length=CURSOR_MAX_CHARS, description=cursor_help)
        ] = None,
    ) -> PageParams:
        return _params(request, limit, cursor, 0, shape)

    return with_offset if offset else without_offset


def _params(
    request: Request, limit: int, cursor: str | None, offset: int, shape: Sequence[str] | None
) -> PageParams:
    key = cursor_key(request.app.state.settings)
    if cursor is not None and offset:
        raise CursorInvalid(
            "give either cursor or offset, not both (offset is deprecated)",
            code="cursor_and_offset",
        )
    values = None if cursor is None else decode(key, scope_of(request), cursor)
    after = None if values is None or shape is None else typed(values, shape)
    return PageParams(
        limit=limit, after=after, offset=offset, request=request, key=key, values=values
    )
