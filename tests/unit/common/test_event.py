"""The event envelope (services/common/bus/envelope.py): reading an event's data as a model."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from services.common.bus import Event


class Notice(BaseModel):
    to: list[str]
    subject: str


def test_data_is_read_as_the_model():
    event = Event(
        type="notification.requested", source="orders", data={"to": ["x"], "subject": "s"}
    )
    assert event.data_as(Notice) == Notice(to=["x"], subject="s")


def test_wrong_data_names_the_fields_but_never_their_values():
    event = Event(
        type="notification.requested",
        source="orders",
        data={"to": "Astrid Lindqvist 193104129814", "subject": None},
    )
    with pytest.raises(ValueError) as refused:
        event.data_as(Notice)
    message = str(refused.value)
    assert "to" in message and "subject" in message and str(event.id) in message
    assert "Astrid" not in message and "193104129814" not in message
    assert refused.value.__cause__ is None and refused.value.__suppress_context__
