"""Request and response bodies of the orders API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.common.text import Day, Flag, FreeText, Name, Reason, UnitName
from services.orders.domain import EndReason, OrderStatus


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


class OrderIn(Strict):
    customer_id: uuid.UUID
    unit_id: str = Field(min_length=1)
    service: Literal["sol_boende"] = "sol_boende"
    decision_date: Day
    planned_start_date: Day | None = None
    text: FreeText


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
