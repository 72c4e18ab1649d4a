"""Recorded histories still replay: a change that breaks running workflows fails here."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.order_lifecycle import OrderLifecycle

HISTORIES = sorted((Path(__file__).parent / "histories").glob("order_lifecycle_*.json"))


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_recorded_history_replays_without_nondeterminism(path: Path):
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    replayer = Replayer(workflows=[OrderLifecycle], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None


def test_there_are_recorded_histories():
    assert {p.stem for p in HISTORIES} >= {
        "order_lifecycle_full_life",
        "order_lifecycle_withdrawn",
        "order_lifecycle_absence_escalated",
        "order_lifecycle_full_life_v2",
        "order_lifecycle_withdrawn_v2",
        "order_lifecycle_absence_escalated_v2",
    }
