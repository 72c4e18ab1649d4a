"""Request and response bodies of the orders API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from services.common.text import Day, Flag, FreeText, Name, Reason, UnitName, free_text, one_line
from services.orders.domain import EndReason, OrderStatus
from services.orders.parts import MAX_CONTACTS, MAX_NEEDS, LifeArea


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UnitIn(Strict):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: UnitName


class Unit(BaseModel):
    id: str
    name: str


class CustomerIn(Strict):
    personnummer: str = Field(min_length=1, max_length=20, examples=["19121212-1212"])
    first_name: Name
    last_name: Name


class Customer(BaseModel):
    id: uuid.UUID
    customer_number: str
    personnummer: str
    first_name: str
    last_name: str


# --- the parts of an order ----------------------------------------------------------------

Line = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(one_line),
]
"""One line of an address, an intervention, a legal ground: trimmed, 1-200 characters."""


def _phone_digits(phone: str) -> str:
    """A phone number has 7 to 15 digits (E.164's most), whatever spaces and dashes."""
    digits = sum(ch.isdigit() for ch in phone)
    if not 7 <= digits <= 15:
        raise ValueError(f"a phone number has 7 to 15 digits, not {digits}")
    return phone


Phone = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=24, pattern=r"^\+?[0-9][0-9 -]*[0-9]$"),
    AfterValidator(_phone_digits),
]
"""A phone number as people write it: 7 to 15 digits with spaces and `-`, a leading `+`
(070-123 45 67, +46 70 123 45 67)."""

PostalCode = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{3} ?[0-9]{2}$")
]
"""A Swedish postnummer: five digits, a space after the third allowed (136 40)."""

Paragraph = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000),
    AfterValidator(free_text),
]
"""A need's description or goal: trimmed, 1-2 000 characters, lines allowed."""


class DecisionIn(Strict):
    """The decision the order carries out; its date is the order's `decision_date`."""

    intervention: Line = Field(examples=["Särskilt boende för äldre"])
    legal_ground: Line = Field(examples=["4 kap. 1 § SoL"])
    valid_from: Day
    valid_to: Day | None = None


class Decision(BaseModel):
    intervention: str
    legal_ground: str
    decision_date: date
    valid_from: date
    valid_to: date | None = None


class Address(Strict):
    street: Line = Field(examples=["Vendevägen 12"])
    postal_code: PostalCode = Field(examples=["136 40"])
    city: Line = Field(examples=["Haninge"])


class CustomerPartIn(Strict):
    """What the order adds to the customer's name and personnummer: where they live now."""

    address: Address | None = None
    phone: Phone | None = None


class CustomerPart(BaseModel):
    name: str
    personnummer: str
    customer_number: str
    address: Address | None = None
    phone: str | None = None


class Contact(Strict):
    """Next of kin or another person to contact."""

    name: Name
    relation: Line = Field(examples=["Dotter", "God man"])
    phone: Phone


class Need(Strict):
    """The customer's need and goal in one of IBIC's life areas."""

    area: LifeArea
    description: Paragraph
    goal: Paragraph


class PartsIn(Strict):
    """The order's parts; the part `other` is the order's `text`."""

    decision: DecisionIn | None = None
    customer: CustomerPartIn | None = None
    contacts: list[Contact] = Field(default_factory=list, max_length=MAX_CONTACTS)
    needs: list[Need] = Field(default_factory=list, max_length=MAX_NEEDS)


class Parts(BaseModel):
    decision: Decision | None = None
    customer: CustomerPart
    contacts: list[Contact] = Field(default_factory=list)
    needs: list[Need] = Field(default_factory=list)
    other: str | None = Field(default=None, description="The order's text")


# --- orders --------------------------------------------------------------------------------


class OrderIn(Strict):
    customer_id: uuid.UUID
    unit_id: str = Field(min_length=1)
    service: Literal["sol_boende"] = "sol_boende"
    decision_date: Day
    planned_start_date: Day | None = None
    text: FreeText | None = Field(default=None, description="Free text: the part `other`")
    parts: PartsIn | None = None

    @model_validator(mode="after")
    def _says_something(self) -> OrderIn:
        if self.text is None and self.parts is None:
            raise ValueError("an order needs its text, its parts, or both")
        return self


class Order(BaseModel):
    id: uuid.UUID
    customer_id: uuid.UUID
    customer_number: str
    customer_name: str
    unit_id: str
    unit_name: str
    service: str
    decision_date: date
    planned_start_date: date | None
    text: str
    parts: Parts | None = Field(
        None, description="The order's parts: on GET /orders/{id} only, not in lists"
    )
    status: OrderStatus
    withdrawn_reason: str | None = None
    execution_id: uuid.UUID | None = None
    start_date: date | None = None
    end_date: date | None = None
    end_reason: str | None = None
    created_at: datetime
    workflow_id: str


class ConfirmIn(Strict):
    start_date: Day


class WithdrawIn(Strict):
    reason: Reason


class EndIn(Strict):
    end_date: Day
    reason: EndReason
    confirmed: Flag = Field(description="The provider ticks that they are sure")


class Execution(BaseModel):
    id: uuid.UUID
    order_id: uuid.UUID
    customer_id: uuid.UUID
    customer_number: str
    unit_id: str
    service: str
    start_date: date
    end_date: date | None
    end_reason: str | None
    status: str
