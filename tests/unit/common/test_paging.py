"""The cursor of a keyset page: opaque, bound to its list and filters, refused when changed."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, date, datetime

import pytest

from services.common.paging import CursorInvalid, cursor_key, decode, encode, typed
from services.common.settings import Settings

KEY = cursor_key(Settings(env="test"))
SCOPE = "/customers?q=Andersson"
SHAPE = ("str", "str", "date", "datetime", "uuid")
VALUES = (
    "Andersson",
    "Greta",
    date(2026, 1, 31),
    datetime(2026, 1, 31, 12, 0, 0, 123456, tzinfo=UTC),
    uuid.uuid4(),
)


def test_a_cursor_gives_back_its_sort_key_with_its_types():
    cursor = encode(KEY, SCOPE, VALUES)
    assert typed(decode(KEY, SCOPE, cursor), SHAPE) == VALUES


def test_a_cursor_reveals_no_name_and_differs_each_time():
    first, second = encode(KEY, SCOPE, VALUES), encode(KEY, SCOPE, VALUES)
    assert first != second
    opened = base64.urlsafe_b64decode(first + "=" * (-len(first) % 4))
    assert b"Andersson" not in opened and b"Greta" not in opened


@pytest.mark.parametrize(
    "change",
    [
        # one character in the middle (the last one may carry only base64's padding bits)
        lambda c: c[:10] + ("A" if c[10] != "A" else "B") + c[11:],
        lambda c: c[:20],  # cut short
        lambda c: "x",  # not one at all
        lambda c: "åäö" * 5,  # not base64
        lambda c: c + c,  # doubled
    ],
)
def test_a_changed_cursor_is_refused_with_the_way_back(change):
    cursor = encode(KEY, SCOPE, VALUES)
    with pytest.raises(CursorInvalid) as refused:
        decode(KEY, SCOPE, change(cursor))
    assert refused.value.status == 400
    assert "start again from the first page" in refused.value.message


def test_a_cursor_of_other_filters_or_another_key_is_refused():
    cursor = encode(KEY, SCOPE, VALUES)
    with pytest.raises(CursorInvalid, match="other filters"):
        decode(KEY, "/customers?q=Berg", cursor)
    with pytest.raises(CursorInvalid):
        decode(bytes(32), SCOPE, cursor)


def test_a_sort_key_that_does_not_fit_the_lists_order_is_refused():
    values = decode(KEY, SCOPE, encode(KEY, SCOPE, VALUES))
    with pytest.raises(CursorInvalid, match="another order"):
        typed(values, ("date", "uuid"))
    with pytest.raises(CursorInvalid, match="another order"):
        typed(values, ("uuid", "str", "date", "datetime", "uuid"))
