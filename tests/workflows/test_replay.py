"""Recorded histories still replay: a change that breaks running workflows fails here."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from services.common.settings import Settings
from services.common.temporal import data_converter
from workflows.order_lifecycle import OrderLifecycle

HISTORIES = sorted((Path(__file__).parent / "histories").glob("order_lifecycle_*.json"))


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_recorded_history_replays_without_nondeterminism(path: Path):
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    # with the platform's converter: histories recorded before encryption still replay
    converter = data_converter(Settings(env="test"))
    replayer = Replayer(workflows=[OrderLifecycle], data_converter=converter)
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
        "order_lifecycle_absence_escalated_v4",  # with the final count of the absence
        "order_lifecycle_month_invoiced_v5",  # an invoiced month continues as new
    }
