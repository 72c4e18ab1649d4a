"""The parts of an order on the caseworker's form (issue 17): the fields of each part, the
rows of contacts and needs (a few blank ones, and "Lägg till" for one more, without
script), the body the orders API takes, and its refusals put back at their fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.web.client import ApiError
from services.web.i18n import gettext_noop as N_
from services.web.pages import FIELD_KINDS, INVALID_VALUE, Form

CONTACT_FIELDS = ("name", "relation", "phone")
NEED_FIELDS = ("area", "description", "goal")
BLANK_ROWS = 2  # rows of contacts and of needs that a new form shows
MAX_CONTACTS = 10  # as the orders API takes them
MAX_NEEDS = 20
# what the decision's fields hold before the caseworker writes anything (special housing)
DECISION_DEFAULTS = {"intervention": "Särskilt boende för äldre", "legal_ground": "4 kap. 1 § SoL"}

# the form's names of the API's fields under `parts`
_FIELDS = {
    "decision.intervention": "intervention",
    "decision.legal_ground": "legal_ground",
    "decision.valid_from": "valid_from",
    "decision.valid_to": "valid_to",
    "customer.phone": "phone",
    "customer.address.street": "street",
    "customer.address.postal_code": "postal_code",
    "customer.address.city": "city",
}
# what a refusal of these kinds means, said better than FIELD_KINDS can for every field
_KINDS = {
    "phone": N_("Skriv ett telefonnummer med 7–15 siffror, till exempel 070-123 45 67."),
    "postal_code": N_("Skriv postnumret med fem siffror, till exempel 136 40."),
}
DECISION_CODES: dict[str, tuple[str | None, str]] = {
    "valid_from_before_decision": (
        "valid_from",
        N_("Beslutet kan inte gälla från ett datum före beslutsdatumet."),
    ),
    "valid_to_before_valid_from": ("valid_to", N_("Gäller till kan inte vara före Gäller från.")),
}


def row_count(values: Mapping[str, str], prefix: str, fields: tuple[str, ...], most: int) -> int:
    """How many rows of `prefix` the form shows: those the person sent (the hidden count),
    at least BLANK_ROWS, at most `most`."""
    try:
        sent = int(values.get(f"{prefix}_rows", ""))
    except ValueError:
        sent = 0
    return max(BLANK_ROWS, min(sent, most))


def rows(values: Mapping[str, str], prefix: str, fields: tuple[str, ...], count: int) -> list[dict]:
    """The rows the person filled in (a wholly blank row is no row), each with its index."""
    found = []
    for index in range(count):
        row = {name: values.get(f"{prefix}-{index}-{name}", "") for name in fields}
        if any(row.values()):
            found.append({"index": index, **row})
    return found


def parts_body(values: Mapping[str, str], *, contacts: int, needs: int) -> dict[str, Any]:
    """The `parts` of POST /orders from the form: the decision (valid from the decision date
    unless said otherwise), the customer's address and phone, the rows filled in."""
    parts: dict[str, Any] = {}
    if values.get("intervention") or values.get("legal_ground"):
        parts["decision"] = {
            "intervention": values.get("intervention", ""),
            "legal_ground": values.get("legal_ground", ""),
            "valid_from": values.get("valid_from") or values.get("decision_date", ""),
            "valid_to": values.get("valid_to") or None,
        }
    customer: dict[str, Any] = {}
    if any(values.get(name) for name in ("street", "postal_code", "city")):
        customer["address"] = {n: values.get(n, "") for n in ("street", "postal_code", "city")}
    if values.get("phone"):
        customer["phone"] = values["phone"]
    if customer:
        parts["customer"] = customer
    parts["contacts"] = [
        {name: row[name] for name in CONTACT_FIELDS}
        for row in rows(values, "contact", CONTACT_FIELDS, contacts)
    ]
    parts["needs"] = [
        {name: row[name] for name in NEED_FIELDS}
        for row in rows(values, "need", NEED_FIELDS, needs)
    ]
    return parts


def field_of(api_field: str, values: Mapping[str, str], *, contacts: int, needs: int) -> str:
    """The form's field of one of the API's `parts.…` fields (a row's by its index among
    the rows filled in); "" when the refusal is of the part as a whole."""
    path = api_field.removeprefix("parts.")
    if path in _FIELDS:
        return _FIELDS[path]
    part, _, rest = path.partition(".")
    prefix, fields, count = {
        "contacts": ("contact", CONTACT_FIELDS, contacts),
        "needs": ("need", NEED_FIELDS, needs),
    }.get(part, ("", (), 0))
    position, _, name = rest.partition(".")
    filled = rows(values, prefix, fields, count) if prefix else []
    if position.isdigit() and int(position) < len(filled) and name in fields:
        return f"{prefix}-{filled[int(position)]['index']}-{name}"
    return ""


def place_refusal(
    form: Form, error: ApiError, values: Mapping[str, str], *, contacts: int, needs: int
) -> bool:
    """Put the API's refusal of a part at its field; False if it was not about the parts."""
    if error.code in DECISION_CODES:
        name, text = DECISION_CODES[error.code]
        form.add(name, text)
        return True
    about_parts = [p for p in error.fields if p.field.startswith("parts")]
    for problem in about_parts:
        name = field_of(problem.field, values, contacts=contacts, needs=needs)
        kind = name.rsplit("-", 1)[-1]
        if kind in _KINDS and problem.kind not in ("missing", "string_too_short"):
            text = _KINDS[kind]
        else:
            text = FIELD_KINDS.get(problem.kind, INVALID_VALUE)
        form.add(name or None, text)
    return bool(about_parts)
