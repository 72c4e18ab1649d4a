"""The parts of an order without I/O: which parts a printout asks for, the decision's dates,
and what a body's parts may hold (IBIC's closed set of life areas, phones, bounded lists,
clean text)."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from lifecare.demo import demo_parts
from services.common.errors import Invalid
from services.orders.parts import (
    LIFE_AREAS_SV,
    MAX_CONTACTS,
    MAX_NEEDS,
    PART_NAMES,
    LifeArea,
    check_decision,
    parts_to_print,
)
from services.orders.schemas import OrderIn, PartsIn

DECIDED = date(2026, 11, 20)
CUSTOMER = "6f1c1c6e-3f4b-4c55-9a3a-0c5f4f0e6a11"
CONTACT = {"name": "Karin Lindqvist", "relation": "Dotter", "phone": "070-174 06 06"}
NEED = {"area": "self_care", "description": "Hjälp med dusch.", "goal": "Känner sig ren."}


def test_every_part_is_printed_when_none_is_asked_for() -> None:
    assert parts_to_print(None) == ("decision", "customer", "contacts", "needs", "other")


def test_the_parts_asked_for_are_printed_in_the_orders_own_order_once_each() -> None:
    assert parts_to_print("needs,decision") == ("decision", "needs")
    assert parts_to_print(" other , other") == ("other",)


@pytest.mark.parametrize("asked", ["decision,status", "", "Needs", "decision,,needs"])
def test_an_unknown_part_is_refused_naming_it_and_the_known_parts(asked: str) -> None:
    with pytest.raises(Invalid) as refused:
        parts_to_print(asked)
    assert refused.value.code == "unknown_part"
    assert ", ".join(PART_NAMES) in refused.value.message
    unknown = next(n.strip() for n in asked.split(",") if n.strip() not in PART_NAMES)
    assert repr(unknown) in refused.value.message


def test_a_decision_is_valid_from_its_date_on_and_to_no_earlier_than_from() -> None:
    check_decision(decision_date=DECIDED, valid_from=DECIDED, valid_to=None)
    check_decision(decision_date=DECIDED, valid_from=DECIDED, valid_to=DECIDED)
    with pytest.raises(Invalid, match="valid_from 2026-11-19 is before the decision_date"):
        check_decision(decision_date=DECIDED, valid_from=date(2026, 11, 19), valid_to=None)
    with pytest.raises(Invalid, match="valid_to 2026-11-30 is before valid_from 2026-12-01"):
        check_decision(
            decision_date=DECIDED, valid_from=date(2026, 12, 1), valid_to=date(2026, 11, 30)
        )


def test_every_life_area_has_its_swedish_name() -> None:
    assert set(LIFE_AREAS_SV) == set(LifeArea)
    assert LIFE_AREAS_SV[LifeArea.self_care] == "Personlig vård"
    assert LIFE_AREAS_SV[LifeArea.domestic_life] == "Hemliv"


def _refusal(parts: dict) -> tuple[tuple, str]:
    with pytest.raises(ValidationError) as refused:
        PartsIn.model_validate(parts)
    [error] = refused.value.errors()
    return error["loc"], error["msg"]


def test_parts_as_a_caseworker_writes_them_are_taken_and_trimmed() -> None:
    parts = PartsIn.model_validate(
        {
            "decision": {
                "intervention": " Särskilt boende för äldre ",
                "legal_ground": "4 kap. 1 § SoL",
                "valid_from": "2026-11-20",
            },
            "customer": {
                "address": {"street": "Exempelgatan 4", "postal_code": "13640", "city": "Haninge"},
                "phone": "+46 70 174 06 05",
            },
            "contacts": [CONTACT],
            "needs": [NEED],
        }
    )
    assert parts.decision is not None and parts.decision.intervention == "Särskilt boende för äldre"
    assert parts.needs[0].area is LifeArea.self_care


@pytest.mark.parametrize(
    ("parts", "loc", "says"),
    [
        ({"needs": [{**NEED, "area": "relationer"}]}, ("needs", 0, "area"), "Input should be"),
        ({"contacts": [{**CONTACT, "name": "  "}]}, ("contacts", 0, "name"), "at least 1"),
        (
            {"contacts": [{**CONTACT, "relation": "Son\u202e"}]},
            ("contacts", 0, "relation"),
            "bidirectional override",
        ),
        ({"contacts": [{**CONTACT, "phone": "ring mig"}]}, ("contacts", 0, "phone"), "pattern"),
        (
            {"contacts": [{**CONTACT, "phone": "070 12"}]},
            ("contacts", 0, "phone"),
            "7 to 15 digits, not 5",
        ),
        ({"contacts": [CONTACT] * (MAX_CONTACTS + 1)}, ("contacts",), "at most 10 items"),
        ({"needs": [NEED] * (MAX_NEEDS + 1)}, ("needs",), "at most 20 items"),
        ({"needs": [{**NEED, "goal": ""}]}, ("needs", 0, "goal"), "at least 1"),
        (
            {"customer": {"address": {"street": "Gatan 1", "postal_code": "1364", "city": "H"}}},
            ("customer", "address", "postal_code"),
            "pattern",
        ),
        ({"contacts": [{**CONTACT, "email": "k@example.se"}]}, ("contacts", 0, "email"), "Extra"),
        ({"other": "Övrigt skrivs i text"}, ("other",), "Extra"),
    ],
)
def test_a_wrong_part_is_refused_naming_its_field(parts: dict, loc: tuple, says: str) -> None:
    where, message = _refusal(parts)
    assert where == loc and says in message, (where, message)


def test_an_order_needs_its_text_or_its_parts_and_may_have_both() -> None:
    base = {"customer_id": CUSTOMER, "unit_id": "solbacken", "decision_date": "2026-11-20"}
    assert OrderIn.model_validate({**base, "text": "Beviljas."}).parts is None
    assert OrderIn.model_validate({**base, "parts": {"needs": [NEED]}}).text is None
    with pytest.raises(ValidationError, match="an order needs its text, its parts, or both"):
        OrderIn.model_validate(base)


def test_the_demo_orders_parts_are_what_the_api_takes() -> None:
    parts = PartsIn.model_validate(demo_parts(DECIDED))
    assert parts.decision is not None and parts.decision.legal_ground == "4 kap. 1 § SoL"
    check_decision(decision_date=DECIDED, valid_from=parts.decision.valid_from, valid_to=None)
    assert {need.area for need in parts.needs} <= set(LifeArea) and len(parts.contacts) == 2
