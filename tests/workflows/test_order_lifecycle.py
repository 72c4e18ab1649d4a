"""OrderLifecycle on the time-skipping server: reminders, IVO notice, start timer, refusals."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from services.common.dates import today_in_stockholm
from tests.workflows.fakes import FakeOrderActivities, start_lifecycle
from workflows.models import (
    Actor,
    ChangeResult,
    ConfirmRequest,
    Durations,
    EndRequest,
    InvoiceIssued,
    LifecycleState,
    WithdrawRequest,
)
from workflows.order_lifecycle import OrderLifecycle

PROVIDER = Actor(sub="anna", role="provider", unit="solbacken")
CASEWORKER = Actor(sub="cecilia", role="caseworker")


async def _today(env: WorkflowEnvironment):
    return today_in_stockholm(await env.get_current_time())


async def _new(env: WorkflowEnvironment, fakes: FakeOrderActivities, **kwargs):
    today = await _today(env)
    handle = await start_lifecycle(
        env.client,
        fakes.task_queue,
        decision_date=kwargs.pop("decision_date", today),
        created_at=await env.get_current_time(),
        **kwargs,
    )
    fakes.handles.append(handle)
    return handle


async def _status(handle) -> LifecycleState:
    return await handle.query(OrderLifecycle.status)


def _refusal(exc_info: pytest.ExceptionInfo[WorkflowUpdateFailedError]) -> ApplicationError:
    cause = exc_info.value.cause
    assert isinstance(cause, ApplicationError)
    return cause


async def test_unit_is_reminded_after_3_days_and_again_after_10(env, fakes):
    handle = await _new(env, fakes)

    await env.sleep(timedelta(days=2, hours=23))
    assert fakes.sent_to("unit:solbacken") == []

    await env.sleep(timedelta(hours=2))  # day 3
    first = fakes.sent_to("unit:solbacken")
    assert len(first) == 1
    assert "100042" in first[0].subject and "100042" in first[0].body

    await env.sleep(timedelta(days=6, hours=22))  # just before day 10
    assert len(fakes.sent_to("unit:solbacken")) == 1
    await env.sleep(timedelta(hours=2))  # day 10
    assert len(fakes.sent_to("unit:solbacken")) == 2
    assert (await _status(handle)).reminders_sent == 2


async def test_caseworkers_hear_of_an_unexecuted_decision_after_90_days(env, fakes):
    handle = await _new(env, fakes)

    await env.sleep(timedelta(days=89))
    assert fakes.sent_to("group:bistand") == []

    await env.sleep(timedelta(days=2))
    (notice,) = fakes.sent_to("group:bistand")
    assert notice.kind == "order.ivo"
    assert "IVO" in notice.body and "100042" in notice.body
    assert (await _status(handle)).ivo_notified


async def test_a_decision_dated_at_the_calendars_end_is_still_reminded(env, fakes):
    # schemathesis-style input: POST /orders {"decision_date": "9999-12-31"} made the IVO
    # day overflow, and every workflow task of the order failed with OverflowError
    handle = await _new(env, fakes, decision_date=date(9999, 12, 31))

    await env.sleep(timedelta(days=3, hours=1))
    assert len(fakes.sent_to("unit:solbacken")) == 1
    assert (await _status(handle)).reminders_sent == 1


async def test_no_reminders_once_confirmed(env, fakes):
    handle = await _new(env, fakes)
    await handle.execute_update(
        OrderLifecycle.confirm, ConfirmRequest(start_date=await _today(env), actor=PROVIDER)
    )
    await env.sleep(timedelta(days=100))
    assert fakes.notifications == []


async def test_confirmed_order_becomes_ongoing_on_its_start_date(env, fakes):
    handle = await _new(env, fakes)
    start = await _today(env) + timedelta(days=5)

    result = await handle.execute_update(
        OrderLifecycle.confirm, ConfirmRequest(start_date=start, actor=PROVIDER)
    )
    assert isinstance(result, ChangeResult) and result.status == "confirmed"
    assert (await _status(handle)).status == "confirmed"

    await env.sleep(timedelta(days=3))
    assert fakes.started == []
    await env.sleep(timedelta(days=3))
    assert fakes.started == [(await _status(handle)).order_id]
    assert (await _status(handle)).status == "ongoing"


async def test_a_confirm_on_or_after_the_start_date_starts_the_execution_in_one_write(env, fakes):
    for days_ago in (0, 4):  # moved in today, or last week and confirmed late
        start = await _today(env) - timedelta(days=days_ago)
        handle = await _new(env, fakes, decision_date=start - timedelta(days=7))

        result = await handle.execute_update(
            OrderLifecycle.confirm, ConfirmRequest(start_date=start, actor=PROVIDER)
        )

        order_id = (await _status(handle)).order_id
        assert isinstance(result, ChangeResult) and result.status == "ongoing"
        assert (await _status(handle)).status == "ongoing"
        assert [(c.order_id, c.start) for c in fakes.confirmed][-1] == (order_id, True)
        assert fakes.started.count(order_id) == 1  # no second start from the start timer
    await env.sleep(timedelta(days=10))
    assert len(fakes.started) == 2


async def test_a_second_confirm_is_refused_and_names_the_state(env, fakes):
    handle = await _new(env, fakes)
    start = await _today(env) + timedelta(days=3)
    await handle.execute_update(
        OrderLifecycle.confirm, ConfirmRequest(start_date=start, actor=PROVIDER)
    )

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            OrderLifecycle.confirm,
            ConfirmRequest(start_date=start + timedelta(days=1), actor=PROVIDER),
        )
    cause = _refusal(refused)
    assert cause.type == "order_confirmed"
    assert cause.details == (409,) or list(cause.details) == [409]
    assert "confirmed" in cause.message
    assert (await _status(handle)).start_date == start  # the start date never changes


async def test_confirm_after_withdrawal_is_refused(env, fakes):
    handle = await _new(env, fakes)
    await handle.execute_update(
        OrderLifecycle.withdraw, WithdrawRequest(reason="Kunden tackade nej", actor=CASEWORKER)
    )
    assert (await handle.result()).status == "withdrawn"
    # the lifecycle is over: the server refuses any further change before it enters history
    with pytest.raises(RPCError) as refused:
        await handle.execute_update(
            OrderLifecycle.confirm,
            ConfirmRequest(start_date=await _today(env), actor=PROVIDER),
        )
    assert refused.value.status == RPCStatusCode.NOT_FOUND


async def test_start_before_the_decision_is_refused(env, fakes):
    handle = await _new(env, fakes)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            OrderLifecycle.confirm,
            ConfirmRequest(start_date=await _today(env) - timedelta(days=1), actor=PROVIDER),
        )
    assert _refusal(refused).type == "start_before_decision"
    assert list(_refusal(refused).details) == [422]
    assert (await _status(handle)).status == "unconfirmed"


async def test_end_before_start_and_end_of_an_ended_stay_are_refused(env, fakes):
    handle = await _new(env, fakes)
    start = await _today(env)
    await handle.execute_update(
        OrderLifecycle.confirm, ConfirmRequest(start_date=start, actor=PROVIDER)
    )

    with pytest.raises(WorkflowUpdateFailedError) as early:
        await handle.execute_update(
            OrderLifecycle.end,
            EndRequest(
                end_date=start - timedelta(days=1),
                reason="moved_home",
                confirmed=True,
                actor=PROVIDER,
            ),
        )
    assert _refusal(early).type == "end_before_start"

    end = start + timedelta(days=20)
    await handle.execute_update(
        OrderLifecycle.end,
        EndRequest(end_date=end, reason="deceased", confirmed=True, actor=PROVIDER),
    )
    with pytest.raises(WorkflowUpdateFailedError) as again:
        await handle.execute_update(
            OrderLifecycle.end,
            EndRequest(end_date=end, reason="deceased", confirmed=True, actor=PROVIDER),
        )
    assert _refusal(again).type == "execution_ended"
    assert len(fakes.ended) == 1


async def test_ended_stay_completes_once_its_last_month_is_invoiced(env, fakes):
    handle = await _new(env, fakes)
    start = await _today(env)
    end = start + timedelta(days=40)
    await handle.execute_update(
        OrderLifecycle.confirm, ConfirmRequest(start_date=start, actor=PROVIDER)
    )
    await handle.execute_update(
        OrderLifecycle.end,
        EndRequest(end_date=end, reason="moved_home", confirmed=True, actor=PROVIDER),
    )
    earlier = (start.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    await handle.signal(
        OrderLifecycle.invoice_issued, InvoiceIssued(event_id=uuid.uuid4(), period=earlier)
    )
    assert (await _status(handle)).status == "ended"

    await handle.signal(
        OrderLifecycle.invoice_issued,
        InvoiceIssued(event_id=uuid.uuid4(), period=end.strftime("%Y-%m")),
    )
    final = await handle.result()
    assert final.status == "ended" and final.invoiced_through == end.strftime("%Y-%m")


async def test_long_history_continues_as_new_and_keeps_its_state(env, fakes):
    durations = Durations(reminder_after=3600, reminder_every=3600, ivo_after=90 * 86400)
    handle = await _new(env, fakes, durations=durations, history_limit=40)

    await env.sleep(timedelta(hours=30, minutes=30))

    state = await _status(handle)
    assert state.reminders_sent == 30
    assert len(fakes.sent_to("unit:solbacken")) == 30
    description = await handle.describe()
    assert description.run_id != handle.first_execution_run_id  # it continued as new
