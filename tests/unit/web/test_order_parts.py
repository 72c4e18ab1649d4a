"""The caseworker's form in parts without I/O: the rows it shows, the body it sends, and the
API's refusals put back at the row and field they name."""

from __future__ import annotations

from services.web import order_parts as parts
from services.web.client import ApiError, FieldProblem
from services.web.pages import Form

FILLED = {
    "decision_date": "2026-11-20",
    "intervention": "Särskilt boende för äldre",
    "legal_ground": "4 kap. 1 § SoL",
    "street": "Exempelgatan 4",
    "postal_code": "136 40",
    "city": "Haninge",
    "contact-0-name": "Karin",
    "contact-0-relation": "Dotter",
    "contact-0-phone": "070-174 06 06",
    # row 1 left blank, row 2 filled: the API's contacts.1 is the form's row 2
    "contact-2-name": "Olle",
    "contact-2-relation": "Son",
    "contact-2-phone": "ring",
    "need-1-area": "self_care",
    "need-1-description": "Hjälp med dusch.",
    "need-1-goal": "",
}


def test_a_new_form_shows_two_rows_and_add_row_never_passes_the_apis_most() -> None:
    assert parts.row_count({}, "contact", parts.CONTACT_FIELDS, 10) == 2
    assert parts.row_count({"contact_rows": "4"}, "contact", parts.CONTACT_FIELDS, 10) == 4
    assert parts.row_count({"contact_rows": "99"}, "contact", parts.CONTACT_FIELDS, 10) == 10
    assert parts.row_count({"contact_rows": "x"}, "contact", parts.CONTACT_FIELDS, 10) == 2


def test_the_body_holds_the_rows_filled_in_and_a_decision_valid_from_its_date() -> None:
    body = parts.parts_body(FILLED, contacts=3, needs=2)
    assert body["decision"] == {
        "intervention": "Särskilt boende för äldre",
        "legal_ground": "4 kap. 1 § SoL",
        "valid_from": "2026-11-20",
        "valid_to": None,
    }
    assert body["customer"] == {
        "address": {"street": "Exempelgatan 4", "postal_code": "136 40", "city": "Haninge"}
    }
    assert [c["name"] for c in body["contacts"]] == ["Karin", "Olle"]
    assert body["needs"] == [{"area": "self_care", "description": "Hjälp med dusch.", "goal": ""}]


def test_a_form_of_nothing_sends_no_decision_no_customer_and_no_rows() -> None:
    assert parts.parts_body({}, contacts=2, needs=2) == {"contacts": [], "needs": []}


def test_a_refusal_lands_at_the_row_the_person_filled_in() -> None:
    error = ApiError(
        422,
        "validation_error",
        "",
        [
            FieldProblem("parts.contacts.1.phone", "value_error", "7 to 15 digits"),
            FieldProblem("parts.needs.0.goal", "string_too_short", "at least 1"),
            FieldProblem("parts.customer.address.postal_code", "string_pattern_mismatch", ""),
        ],
    )
    form = Form(values=FILLED)
    assert parts.place_refusal(form, error, FILLED, contacts=3, needs=2)
    assert form.errors == {
        "contact-2-phone": "Skriv ett telefonnummer med 7–15 siffror, till exempel 070-123 45 67.",
        "need-1-goal": "Fyll i fältet.",
        "postal_code": "Skriv postnumret med fem siffror, till exempel 136 40.",
    }


def test_a_decision_refused_by_its_dates_lands_at_the_date() -> None:
    form = Form()
    error = ApiError(422, "valid_to_before_valid_from", "parts.decision.valid_to …")
    assert parts.place_refusal(form, error, {}, contacts=2, needs=2)
    assert list(form.errors) == ["valid_to"]


def test_a_refusal_of_the_orders_own_fields_is_left_to_the_page() -> None:
    error = ApiError(422, "unknown_unit", "unit_id names no unit")
    assert not parts.place_refusal(Form(), error, {}, contacts=2, needs=2)
