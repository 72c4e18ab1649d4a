"""Updates sent straight to Temporal, by name and as JSON, the way `temporal workflow update
execute --name end --input '{...}'` sends them: the validators refuse whatever the API
refuses, before anything enters the workflow's history (so no activity runs and no audit row
is written)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from services.common.dates import today_in_stockholm
from tests.workflows.fakes import FakeOrderActivities, start_lifecycle
from workflows.order_lifecycle import OrderLifecycle

PROVIDER = {"sub": "anna", "role": "provider", "unit": "solbacken"}
CASEWORKER = {"sub": "cecilia", "role": "caseworker"}
UPDATE_EVENTS = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
}


async def _today(env: WorkflowEnvironment):
    return today_in_stockholm(await env.get_current_time())


async def _lifecycle(env: WorkflowEnvironment, fakes: FakeOrderActivities) -> WorkflowHandle:
    handle = await start_lifecycle(
        env.client,
        fakes.task_queue,
        decision_date=await _today(env),
        created_at=await env.get_current_time(),
    )
    fakes.handles.append(handle)
    return handle


async def _refused(handle: WorkflowHandle, name: str, body: dict) -> ApplicationError:
    """Send the update as raw JSON by its name; the validator's refusal, as a CLI sees it."""
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(name, body)
    cause = refused.value.cause
    assert isinstance(cause, ApplicationError)
    return cause


async def _updates_in_history(handle: WorkflowHandle) -> list:
    return [e async for e in handle.fetch_history_events() if e.event_type in UPDATE_EVENTS]


async def _ongoing(env: WorkflowEnvironment, fakes: FakeOrderActivities) -> WorkflowHandle:
    handle = await _lifecycle(env, fakes)
    await handle.execute_update(
        "confirm", {"start_date": str(await _today(env)), "actor": PROVIDER}
    )
    fakes.confirmed.clear()
    return handle


def _end(**changes: object) -> dict:
    return {"end_date": "", "reason": "moved_home", "confirmed": True, "actor": PROVIDER} | changes


@pytest.mark.parametrize(
    ("changes", "type_", "status"),
    [
        ({"reason": "not-a-valid-reason"}, "unknown_end_reason", 422),
        ({"confirmed": False}, "end_not_confirmed", 422),
        (
            {"actor": {"sub": "mallory", "role": "caseworker"}},
            "actor_role_not_allowed",
            403,
        ),
        (
            {"actor": {"sub": "mallory", "role": "admin"}},
            "actor_role_not_allowed",
            403,
        ),
        (
            {"actor": {"sub": "mallory", "role": "provider", "unit": "ekbacken"}},
            "actor_unit_not_allowed",
            403,
        ),
        ({"actor": {"sub": "", "role": "provider", "unit": "solbacken"}}, "actor_unnamed", 422),
        ({"end_date": "9999-12-31"}, "end_date_too_far_ahead", 422),
    ],
    ids=["bad-reason", "untrue-tick", "caseworker", "admin", "other-unit", "nobody", "far-end"],
)
async def test_an_end_sent_straight_to_temporal_is_refused_and_leaves_no_trace(
    env, fakes, changes: dict, type_: str, status: int
):
    handle = await _ongoing(env, fakes)
    before = len(await _updates_in_history(handle))
    body = _end(end_date=str(await _today(env) + timedelta(days=3))) | changes

    cause = await _refused(handle, "end", body)

    assert cause.type == type_
    assert list(cause.details) == [status]
    assert fakes.ended == []  # the write (and its audit row) never ran
    assert len(await _updates_in_history(handle)) == before  # nothing entered history
    assert (await handle.query(OrderLifecycle.status)).status == "ongoing"


@pytest.mark.parametrize("tick", ["yes", 1, "true", None])
async def test_a_tick_that_is_not_jsons_true_is_refused_as_it_decodes(env, fakes, tick: object):
    handle = await _ongoing(env, fakes)
    body = _end(end_date=str(await _today(env)), confirmed=tick)

    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update("end", body)

    assert fakes.ended == []
    assert (await handle.query(OrderLifecycle.status)).status == "ongoing"


@pytest.mark.parametrize(
    ("actor", "start_in_days", "type_"),
    [
        ({"sub": "cecilia", "role": "caseworker"}, 0, "actor_role_not_allowed"),
        ({"sub": "mallory", "role": "provider", "unit": "ekbacken"}, 0, "actor_unit_not_allowed"),
        (PROVIDER, 400, "start_date_too_far_ahead"),
        (PROVIDER, -1, "start_before_decision"),
    ],
    ids=["caseworker", "other-unit", "far-start", "before-decision"],
)
async def test_a_confirm_sent_straight_to_temporal_is_refused_and_leaves_no_trace(
    env, fakes, actor: dict, start_in_days: int, type_: str
):
    handle = await _lifecycle(env, fakes)
    start = await _today(env) + timedelta(days=start_in_days)

    cause = await _refused(handle, "confirm", {"start_date": str(start), "actor": actor})

    assert cause.type == type_
    assert fakes.confirmed == []
    assert await _updates_in_history(handle) == []
    assert (await handle.query(OrderLifecycle.status)).status == "unconfirmed"


@pytest.mark.parametrize(
    ("body", "type_"),
    [
        ({"reason": "Kunden tackade nej", "actor": PROVIDER}, "actor_role_not_allowed"),
        ({"reason": "   ", "actor": CASEWORKER}, "withdraw_reason_missing"),
        ({"reason": "nej\u202e", "actor": CASEWORKER}, "withdraw_reason_unclean"),
    ],
    ids=["provider", "blank-reason", "bidi-reason"],
)
async def test_a_withdrawal_sent_straight_to_temporal_is_refused_and_leaves_no_trace(
    env, fakes, body: dict, type_: str
):
    handle = await _lifecycle(env, fakes)

    cause = await _refused(handle, "withdraw", body)

    assert cause.type == type_
    assert await _updates_in_history(handle) == []
    assert (await handle.query(OrderLifecycle.status)).status == "unconfirmed"


async def test_the_rightful_actor_still_gets_through(env, fakes):
    handle = await _ongoing(env, fakes)
    await handle.execute_update("end", _end(end_date=str(await _today(env))))
    assert len(fakes.ended) == 1 and fakes.ended[0].actor.sub == "anna"
    assert len(await _updates_in_history(handle)) == 4  # confirm and end, accepted, completed
