"""A personnummer whose date of birth lies before 1890 is no living person's."""

from __future__ import annotations

from datetime import date

import pytest

from services.common.errors import Invalid
from services.orders.domain import normalize_personnummer

TODAY = date(2026, 12, 1)


def test_the_oldest_test_personnummer_is_accepted():
    assert normalize_personnummer("18900101-9802", today=TODAY) == "189001019802"


@pytest.mark.parametrize("number", ["18891231-9996", "17891231-9996"])
def test_a_birth_year_before_1890_is_refused(number):
    with pytest.raises(Invalid) as refused:
        normalize_personnummer(number, today=TODAY)
    assert refused.value.code == "invalid_personnummer"
    assert refused.value.message == "a date of birth before 1890 is not a living person's"


def test_ten_digits_with_plus_cannot_reach_before_1890():
    # 891231+9996 is read as 1889 (over 100 years old today), not as 1989
    with pytest.raises(Invalid, match="before 1890"):
        normalize_personnummer("891231+9996", today=TODAY)
