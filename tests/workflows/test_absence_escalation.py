"""OrderLifecycle keeps the stay's absences and tells fee administrators of those over 30 days."""

from __future__ import annotations

import asyncio
import inspect
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import TypeVar

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from services.absence.domain import ESCALATE_AFTER_DAYS, REASON_LABELS
from services.common.dates import STOCKHOLM, today_in_stockholm
from tests.workflows.fakes import FakeOrderActivities, start_lifecycle
from workflows.models import (
    AbsenceChange,
    Actor,
    ConfirmRequest,
    EndRequest,
    InvoiceIssued,
    LifecycleState,
)
from workflows.order_lifecycle import OrderLifecycle

PROVIDER = Actor(sub="anna", role="provider", unit="solbacken")
T = TypeVar("T")


async def _noon(env: WorkflowEnvironment) -> date:
    """Move the clock to the next noon in Stockholm, so whole days never cross midnight."""
    now = (await env.get_current_time()).astimezone(STOCKHOLM)
    noon = datetime(now.year, now.month, now.day, 12, tzinfo=STOCKHOLM)
    if noon <= now:
        noon = datetime.combine(noon.date() + timedelta(days=1), noon.timetz())
    await env.sleep(noon - now)
    return today_in_stockholm(await env.get_current_time())


async def _stay(
    env: WorkflowEnvironment, fakes: FakeOrderActivities, start: date
) -> WorkflowHandle:
    """A lifecycle confirmed with `start` as the day the customer moved in."""
    handle = await start_lifecycle(
        env.client, fakes.task_queue, decision_date=start, created_at=await env.get_current_time()
    )
    fakes.handles.append(handle)
    await handle.execute_update(
        OrderLifecycle.confirm, ConfirmRequest(start_date=start, actor=PROVIDER)
    )
    return handle


def _absence(first: date, last: date | None = None, **changes) -> AbsenceChange:
    """A change as the bridge signals it, with the label and rule the absence event carries."""
    reason = changes.pop("reason", "hospital")
    return AbsenceChange(
        event_id=uuid.uuid4(),
        absence_id=changes.pop("absence_id", uuid.uuid4()),
        revision=changes.pop("revision", 1),
        reason=reason,
        reason_label=REASON_LABELS[reason],
        escalate_after_days=ESCALATE_AFTER_DAYS,
        from_date=first,
        to_date=last,
        **changes,
    )


def _next(change: AbsenceChange, **update) -> AbsenceChange:
    """The absence's next change, as a new event."""
    return change.model_copy(
        update={"event_id": uuid.uuid4(), "revision": change.revision + 1, **update}
    )


async def _until(check: Callable[[], T | Awaitable[T]], timeout: float = 10.0) -> T:
    """Poll `check` in real time (the test server's clock stands still) until it is truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result  # type: ignore[return-value]
        assert asyncio.get_running_loop().time() < deadline, "condition not met"
        await asyncio.sleep(0.05)


async def _signalled(handle: WorkflowHandle, change: AbsenceChange) -> LifecycleState:
    """Signal an absence change; return the state once the workflow holds that revision."""
    await handle.signal(OrderLifecycle.absence_changed, change)

    async def applied() -> LifecycleState | None:
        state: LifecycleState = await handle.query(OrderLifecycle.status)
        held = [a for a in state.absences if a.absence_id == change.absence_id]
        return state if held and held[0].revision >= change.revision else None

    return await _until(applied)


async def test_an_open_absence_is_escalated_on_day_31_not_on_day_30(env, fakes):
    today = await _noon(env)
    handle = await _stay(env, fakes, start=today - timedelta(days=3))
    absence = _absence(today)
    state = await _signalled(handle, absence)
    assert [(a.absence_id, a.from_date, a.to_date) for a in state.absences] == [
        (absence.absence_id, today, None)
    ]

    await env.sleep(timedelta(days=30))  # 30 whole days absent lie behind: not more than 30
    assert fakes.escalations == [] and fakes.sent_to("group:avgifter") == []

    await env.sleep(timedelta(days=1))  # day 31 after the first: 31 whole days
    (escalation,) = fakes.escalations
    assert escalation.absence_id == absence.absence_id
    assert escalation.customer_number == "100042" and escalation.from_date == today
    assert escalation.last_day is None and escalation.whole_days == 31
    (notice,) = fakes.sent_to("group:avgifter")
    assert notice.kind == "absence.escalated" and "100042" in notice.subject
    assert str(today) in notice.body and "31 hela dagar utan kost hittills" in notice.body
    assert "sjukhusvistelse" in notice.body
    (held,) = (await handle.query(OrderLifecycle.status)).absences
    assert held.escalated


async def test_a_closed_10_day_absence_is_never_escalated(env, fakes):
    today = await _noon(env)
    handle = await _stay(env, fakes, start=today)
    await _signalled(handle, _absence(today, today + timedelta(days=9)))

    await env.sleep(timedelta(days=60))
    assert fakes.escalations == [] and fakes.notifications == []
    (held,) = (await handle.query(OrderLifecycle.status)).absences
    assert not held.escalated


async def test_a_45_day_absence_registered_afterwards_is_escalated_at_once(env, fakes):
    today = await _noon(env)
    handle = await _stay(env, fakes, start=today - timedelta(days=60))
    first, last = today - timedelta(days=50), today - timedelta(days=6)
    absence = _absence(first, last, reason="vacation")
    await handle.signal(OrderLifecycle.absence_changed, absence)

    (escalation,) = await _until(lambda: fakes.escalations)
    assert escalation.whole_days == 45 and escalation.last_day == last
    (notice,) = await _until(lambda: fakes.sent_to("group:avgifter"))
    assert f"{first}" in notice.body and f"{last}" in notice.body
    assert "45 hela dagar utan kost" in notice.body and "hittills" not in notice.body


async def test_a_repeated_signal_escalates_once_and_a_late_older_change_is_dropped(env, fakes):
    today = await _noon(env)
    handle = await _stay(env, fakes, start=today - timedelta(days=60))
    registered = _absence(today - timedelta(days=50), today - timedelta(days=6))
    for _ in range(3):  # the same event delivered three times
        await handle.signal(OrderLifecycle.absence_changed, registered)
    await _until(lambda: fakes.escalations)

    shortened = _next(registered, to_date=today - timedelta(days=8))
    await _signalled(handle, shortened)
    await handle.signal(OrderLifecycle.absence_changed, registered)  # redelivered, late
    await handle.signal(  # the same older change again, under another event id
        OrderLifecycle.absence_changed, registered.model_copy(update={"event_id": uuid.uuid4()})
    )
    await env.sleep(timedelta(days=40))

    # one escalation; the shortened end is the one final count that replaces its figures
    assert len(fakes.escalations) == 1
    assert [n.kind for n in fakes.sent_to("group:avgifter")] == [
        "absence.escalated",
        "absence.final_count",
    ]
    (held,) = (await handle.query(OrderLifecycle.status)).absences
    assert held.escalated and held.revision == 2 and held.to_date == shortened.to_date


async def test_an_absence_ended_or_removed_before_day_31_is_not_escalated(env, fakes):
    today = await _noon(env)
    handle = await _stay(env, fakes, start=today - timedelta(days=30))
    ended = _absence(today - timedelta(days=20))
    removed = _absence(today, reason="relatives")
    await _signalled(handle, ended)
    await _signalled(handle, removed)

    await env.sleep(timedelta(days=5))
    await _signalled(handle, _next(ended, to_date=today))
    await _signalled(handle, _next(removed, removed=True))
    await env.sleep(timedelta(days=60))

    assert fakes.escalations == [] and fakes.notifications == []
    state = await handle.query(OrderLifecycle.status)
    assert {(a.to_date, a.removed) for a in state.absences} == {(today, False), (None, True)}


async def test_an_open_absence_ends_with_the_stay_and_the_lifecycle_still_completes(env, fakes):
    today = await _noon(env)
    handle = await _stay(env, fakes, start=today - timedelta(days=10))
    await _signalled(handle, _absence(today - timedelta(days=5)))
    end = today + timedelta(days=10)  # 16 days absent when the stay ends
    await handle.execute_update(
        OrderLifecycle.end,
        EndRequest(end_date=end, reason="deceased", confirmed=True, actor=PROVIDER),
    )
    await env.sleep(timedelta(days=40))
    await handle.signal(
        OrderLifecycle.invoice_issued,
        InvoiceIssued(event_id=uuid.uuid4(), period=end.strftime("%Y-%m")),
    )
    final = await handle.result()
    assert final.status == "ended" and len(final.absences) == 1
    assert fakes.escalations == []


async def test_an_open_absence_past_30_days_in_an_ended_stay_is_escalated_with_its_days(env, fakes):
    today = await _noon(env)
    handle = await _stay(env, fakes, start=today - timedelta(days=60))
    first = today - timedelta(days=40)
    end = today - timedelta(days=2)  # the stay ended while the customer was away
    await handle.execute_update(
        OrderLifecycle.end,
        EndRequest(end_date=end, reason="deceased", confirmed=True, actor=PROVIDER),
    )
    await handle.signal(OrderLifecycle.absence_changed, _absence(first))

    (escalation,) = await _until(lambda: fakes.escalations)
    assert escalation.last_day == end and escalation.whole_days == 39
