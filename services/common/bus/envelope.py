"""The envelope of every event on the bus."""

from __future__ import annotations

import builtins
import uuid
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, Field, ValidationError

Data = TypeVar("Data", bound=BaseModel)


class Event(BaseModel):
    """The envelope of every event on the bus."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    source: str
    data: dict[str, Any]

    def data_as(self, model: builtins.type[Data]) -> Data:  # `type` is a field here
        """The data as `model`; a refusal names the wrong fields, never their values, which
        may be personal data and would end up in the log with the failure."""
        try:
            return model.model_validate(self.data)
        except ValidationError as exc:
            fields = ", ".join(".".join(map(str, e["loc"])) or "data" for e in exc.errors())
            raise ValueError(f"{self.type} {self.id}: invalid {fields}") from None
