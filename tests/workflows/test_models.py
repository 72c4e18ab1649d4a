"""The events the lifecycle asks its activities to write are their contracts, plus the id
the workflow fixes: no copy of a contract's fields in workflows/models.py."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from services.common.contracts import Contract
from services.common.contracts.absence import AbsenceEscalated
from services.common.contracts.notifications import NotificationRequested
from workflows.models import AbsenceEscalation, NotificationCommand

NOTICE = {"to": ["group:avgifter"], "subject": "Ämne", "body": "Text", "kind": "order.ivo"}
ESCALATION = {
    "absence_id": uuid.uuid4(),
    "order_id": uuid.uuid4(),
    "execution_id": None,
    "customer_id": uuid.uuid4(),
    "customer_number": "K-1",
    "unit_id": "solbacken",
    "reason": "hospital",
    "from_date": date(2026, 1, 1),
    "last_day": None,
    "whole_days": 31,
}


@pytest.mark.parametrize(
    ("command", "contract", "data"),
    [
        (NotificationCommand, NotificationRequested, NOTICE),
        (AbsenceEscalation, AbsenceEscalated, ESCALATION),
    ],
)
def test_a_command_is_its_events_contract_and_an_id(
    command: type[Contract], contract: type[Contract], data: dict[str, object]
) -> None:
    assert set(command.model_fields) == set(contract.model_fields) | {"event_id"}
    written = command.model_validate({**data, "event_id": uuid.uuid4()})
    event = written.event()  # type: ignore[attr-defined]
    assert type(event) is contract
    assert written.payload() == event.payload() == contract.model_validate(data).payload()
    assert "event_id" not in written.payload()
