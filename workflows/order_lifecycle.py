"""OrderLifecycle: one durable workflow per order, from ordering to its last invoice."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from services.common import dates
    from services.common.errors import LifecareError
    from workflows import absence_count
    from workflows import lifecycle_activities as activities
    from workflows import order_rules as domain
    from workflows.models import (
        ORDER_STATUS,
        AbsenceChange,
        AbsenceEntry,
        AbsenceEscalation,
        Actor,
        ChangeResult,
        ConfirmCommand,
        ConfirmRequest,
        EndCommand,
        EndRequest,
        HeldInvoicesQuery,
        InvoiceIssued,
        LifecycleInput,
        LifecycleState,
        NotificationCommand,
        StartCommand,
        WithdrawCommand,
        WithdrawRequest,
    )

ACTIVITY_TIMEOUT = timedelta(seconds=30)
# A change the API waits for: a few quick tries, then the caller hears that it failed.
CHANGE_RETRY = RetryPolicy(maximum_attempts=5, non_retryable_error_types=["refused"])
# Background work nobody waits for: keep trying until it is done.
BACKGROUND_RETRY = RetryPolicy(maximum_interval=timedelta(minutes=5))
# Patch ids: the orders writes (confirm, withdraw, end, start) run as local activities;
# then, a confirmation whose start date has come also starts the execution, in one write
# and one status change (it implies local writes, so a new history records only this one).
LOCAL_WRITES = "local-orders-writes"
CONFIRM_STARTS = "confirm-starts-execution"
# an escalated absence that ends or is removed gets one more notice, its final count
FINAL_COUNT = "final-absence-count"
# an ongoing stay continues as new once a month of it is invoiced: a run holds about a month
MONTHLY_RUNS = "continue-after-invoiced-month"
IVO_MAILBOX = "group:bistand"
FEE_ADMIN_MAILBOX = "group:avgifter"


def refusal(exc: LifecareError) -> ApplicationError:
    """A business refusal as a non-retryable failure that the API turns back into a 4xx."""
    return ApplicationError(exc.message, exc.status, type=exc.code, non_retryable=True)


@workflow.defn
class OrderLifecycle:
    """Reminds while unconfirmed, starts the execution on its day, keeps the stay's absences
    and escalates those over 30 days, ends it, then completes."""

    @workflow.init
    def __init__(self, input: LifecycleInput) -> None:
        self.s: LifecycleState = input.state
        self._changed = False
        self._invoiced_at_start = input.state.invoiced_through

    @workflow.run
    async def run(self, input: LifecycleInput) -> LifecycleState:
        while True:
            # act only between changes: a confirm still writing must not race the start timer
            await workflow.wait_condition(workflow.all_handlers_finished)
            await self._act_on_due_work()
            if self._finished():
                await workflow.wait_condition(workflow.all_handlers_finished)
                if self._finished():  # a failed change may have put the state back
                    return self.s
                continue
            if self._history_is_long() or self._month_invoiced():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(LifecycleInput(state=self.s))
            self._changed = False
            deadline = self._next_deadline()
            timeout = None if deadline is None else max(deadline - workflow.now(), timedelta())
            try:
                await workflow.wait_condition(lambda: self._changed, timeout=timeout)
            except TimeoutError:
                pass

    # --- queries, updates and signals ----------------------------------------------------

    @workflow.query
    def status(self) -> LifecycleState:
        """The order's state as the workflow knows it."""
        return self.s

    @workflow.update
    async def confirm(self, request: ConfirmRequest) -> ChangeResult:
        """The provider confirms the order with the day the customer moves in; if that day
        has come, the execution starts with the confirmation."""
        previous = self.s.status
        start = workflow.patched(CONFIRM_STARTS) and workflow.now() >= dates.start_of_day(
            request.start_date
        )
        self._set_status(domain.OrderStatus.ongoing if start else domain.OrderStatus.confirmed)
        self.s.start_date = request.start_date
        try:
            result = await self._write(
                activities.confirm_order,
                ConfirmCommand(
                    order_id=self.s.order_id,
                    start_date=request.start_date,
                    actor=request.actor,
                    start=start,
                ),
                CHANGE_RETRY,
            )
        except Exception:
            self._set_status(previous)
            self.s.start_date = None
            raise
        self.s.execution_id = result.execution_id
        return result

    @confirm.validator
    def _validate_confirm(self, request: ConfirmRequest) -> None:
        self._check_actor("confirm", request.actor)
        self._check(
            domain.check_confirm,
            status=self.s.status,
            decision_date=self.s.decision_date,
            start_date=request.start_date,
            today=self._today(),
            bounds=self.s.bounds,
        )

    @workflow.update
    async def withdraw(self, request: WithdrawRequest) -> ChangeResult:
        """The caseworker withdraws the order while it is unconfirmed."""
        self._set_status(domain.OrderStatus.withdrawn)
        try:
            return await self._write(
                activities.withdraw_order,
                WithdrawCommand(
                    order_id=self.s.order_id, reason=request.reason, actor=request.actor
                ),
                CHANGE_RETRY,
            )
        except Exception:
            self._set_status(domain.OrderStatus.unconfirmed)
            raise

    @withdraw.validator
    def _validate_withdraw(self, request: WithdrawRequest) -> None:
        self._check_actor("withdraw", request.actor)
        self._check(domain.check_withdraw, status=self.s.status, reason=request.reason)

    @workflow.update
    async def end(self, request: EndRequest) -> ChangeResult:
        """The provider ends the execution: the customer moved or died."""
        previous = self.s.status
        self._set_status(domain.OrderStatus.ended)
        self.s.end_date = request.end_date
        try:
            return await self._write(
                activities.end_execution,
                EndCommand(
                    order_id=self.s.order_id,
                    end_date=request.end_date,
                    reason=request.reason,
                    actor=request.actor,
                ),
                CHANGE_RETRY,
            )
        except Exception:
            self._set_status(previous)
            self.s.end_date = None
            raise

    @end.validator
    def _validate_end(self, request: EndRequest) -> None:
        self._check_actor("end", request.actor)
        self._check(
            domain.check_end,
            status=self.s.status,
            start_date=self.s.start_date or request.end_date,
            end_date=request.end_date,
            reason=request.reason,
            sure=request.confirmed,
            today=self._today(),
            bounds=self.s.bounds,
        )

    @workflow.signal
    def invoice_issued(self, signal: InvoiceIssued) -> None:
        """Billing issued an invoice for this stay; the last one lets the workflow complete."""
        if not self._first_time(signal.event_id):
            return
        if self.s.invoiced_through is None or signal.period > self.s.invoiced_through:
            self.s.invoiced_through = signal.period
        self._changed = True

    @workflow.signal
    def absence_changed(self, change: AbsenceChange) -> None:
        """An absence of the stay was registered, changed or removed (from the event bridge).

        A repeated event is dropped by its id, an older change arriving late by its revision.
        """
        if not self._first_time(change.event_id):
            return
        entry = next((a for a in self.s.absences if a.absence_id == change.absence_id), None)
        if entry is not None and change.revision <= entry.revision:
            return
        if entry is None:
            entry = AbsenceEntry(
                absence_id=change.absence_id, reason=change.reason, from_date=change.from_date
            )
            self.s.absences.append(entry)
        entry.revision = change.revision
        entry.reason = change.reason
        entry.from_date = change.from_date
        entry.to_date = change.to_date
        entry.removed = change.removed
        entry.reason_label = change.reason_label
        entry.escalate_after_days = change.escalate_after_days
        self._changed = True

    # --- the work the workflow does by itself -----------------------------------------------

    async def _act_on_due_work(self) -> None:
        now = workflow.now()
        if self.s.status == domain.OrderStatus.unconfirmed:
            if now >= self._reminder_due():
                await self._remind_unit(now)
            if not self.s.ivo_notified and now >= self._ivo_due():
                await self._notify_ivo()
        elif self.s.status == domain.OrderStatus.confirmed and self.s.start_date is not None:
            if now >= dates.start_of_day(self.s.start_date):
                await self._start_execution()
        for absence in list(self.s.absences):
            due = self._escalation_due(absence)
            if due is not None and now >= due:
                await self._escalate(absence)
        for absence in list(self.s.absences):
            if self._final_count_due(absence):
                await self._tell_final_count(absence)

    async def _remind_unit(self, now: datetime) -> None:
        number = self.s.reminders_sent + 1
        await self._notify(
            kind="order.reminder",
            key=f"reminder-{number}",
            to=[f"unit:{self.s.unit_id}"],
            subject=f"Påminnelse: ej bekräftad beställning, kund {self.s.customer_number}",
            body=(
                f"Beställningen {self.s.order_id} för kund {self.s.customer_number} "
                f"(beslut {self.s.decision_date}) är ännu inte bekräftad. Bekräfta den med "
                "inflyttningsdagen när kunden har flyttat in."
            ),
        )
        # after a long pause, one reminder covers every one that fell due meanwhile
        plan = self._reminder_plan()
        while plan.due_at(self.s.created_at, self.s.reminders_sent) <= now:
            self.s.reminders_sent += 1

    async def _notify_ivo(self) -> None:
        await self._notify(
            kind="order.ivo",
            key="ivo",
            to=[IVO_MAILBOX],
            subject=f"Ej verkställt beslut, kund {self.s.customer_number}",
            body=(
                f"Beslutet {self.s.decision_date} för kund {self.s.customer_number} "
                f"(beställning {self.s.order_id}) är inte verkställt. Ett ej verkställt beslut "
                "ska rapporteras till IVO."
            ),
        )
        self.s.ivo_notified = True

    async def _escalate(self, absence: AbsenceEntry) -> None:
        """Tell the fee administrators of an absence over 30 days: one event, one message."""
        last = dates.last_day(absence.to_date, self.s.end_date)
        through = dates.counted_through(last, dates.today_in_stockholm(workflow.now()))
        days = dates.whole_days(absence.from_date, through)
        await workflow.execute_activity(
            activities.escalate_absence,
            AbsenceEscalation(
                event_id=self._event_id(f"absence-escalated-{absence.absence_id}"),
                absence_id=absence.absence_id,
                order_id=self.s.order_id,
                execution_id=self.s.execution_id,
                customer_id=self.s.customer_id,
                customer_number=self.s.customer_number,
                unit_id=self.s.unit_id,
                reason=absence.reason,
                from_date=absence.from_date,
                last_day=last,
                whole_days=days,
            ),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=BACKGROUND_RETRY,
        )
        months = ", ".join(
            f"{month}: {n}" for month, n in dates.days_by_month(absence.from_date, through)
        )
        await self._notify(
            kind="absence.escalated",
            key=f"absence-{absence.absence_id}",
            to=[FEE_ADMIN_MAILBOX],
            subject=f"Frånvaro över 30 dagar, kund {self.s.customer_number}",
            body=(
                f"Kund {self.s.customer_number} är frånvarande "
                f"({absence.reason_label or absence.reason}) från "
                f"{absence.from_date} till {last or 'vidare, frånvaron pågår'}: {days} hela "
                f"dagar utan kost{'' if last else ' hittills'} (per månad {months}). "
                "Frånvaro över 30 dagar: avdraget hanteras manuellt av avgiftshandläggare. "
                f"Beställning {self.s.order_id}, frånvaro {absence.absence_id}."
            ),
        )
        absence.escalated = True
        absence.told_end = last  # a known last day: the notice held the whole count

    async def _tell_final_count(self, absence: AbsenceEntry) -> None:
        """An escalated absence got its last day, or was removed: tell the fee administrators
        its whole count and the held invoices waiting for it, once per end."""
        last = dates.last_day(absence.to_date, self.s.end_date)
        if workflow.patched(FINAL_COUNT):
            first_day, last_day = absence_count.held_periods(
                from_date=absence.from_date,
                last_day=None if absence.removed else last,
                today=self._today(),
            )
            held = await workflow.execute_activity(
                activities.held_invoices_of_absence,
                HeldInvoicesQuery(
                    customer_id=self.s.customer_id, first_day=first_day, last_day=last_day
                ),
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=BACKGROUND_RETRY,
            )
            count = absence_count.final_count(
                from_date=absence.from_date, last_day=last, removed=absence.removed
            )
            subject, body = absence_count.notice(
                count,
                customer_number=self.s.customer_number,
                reason=absence.reason_label or absence.reason,
                held=held.periods,
                replaces=absence.final_counts > 0 or absence.told_end is not None,
                order_id=self.s.order_id,
                absence_id=absence.absence_id,
            )
            absence.final_counts += 1
            await self._notify(
                kind="absence.final_count",
                key=f"absence-final-{absence.absence_id}-{absence.final_counts}",
                to=[FEE_ADMIN_MAILBOX],
                subject=subject,
                body=body,
            )
        # a history from before the final count never sent one: it only remembers the end
        absence.told_end = last
        absence.told_removed = absence.removed

    async def _notify(self, *, kind: str, key: str, to: list[str], subject: str, body: str) -> None:
        await workflow.execute_activity(
            activities.request_notification,
            NotificationCommand(
                event_id=self._event_id(key),
                to=to,
                subject=subject,
                body=body,
                kind=kind,
                order_id=self.s.order_id,
                customer_number=self.s.customer_number,
                customer_id=self.s.customer_id,
            ),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=BACKGROUND_RETRY,
        )

    async def _start_execution(self) -> None:
        await self._write(
            activities.start_execution,
            StartCommand(order_id=self.s.order_id),
            BACKGROUND_RETRY,
        )
        if self.s.status == domain.OrderStatus.confirmed:
            self._set_status(domain.OrderStatus.ongoing)

    # --- helpers --------------------------------------------------------------------------

    async def _write(self, activity: Any, command: Any, retry: RetryPolicy) -> Any:
        """One short write to the orders schema: a local activity in histories that began
        after the patch (no round trip through the task queue), a regular one before it."""
        if workflow.patched(CONFIRM_STARTS) or workflow.patched(LOCAL_WRITES):
            return await workflow.execute_local_activity(
                activity, command, start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=retry
            )
        return await workflow.execute_activity(
            activity, command, start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=retry
        )

    def _reminder_plan(self) -> domain.ReminderPlan:
        return domain.ReminderPlan(
            first_after=timedelta(seconds=self.s.durations.reminder_after),
            every=timedelta(seconds=self.s.durations.reminder_every),
        )

    def _reminder_due(self) -> datetime:
        return self._reminder_plan().due_at(self.s.created_at, self.s.reminders_sent)

    def _ivo_due(self) -> datetime:
        # saturates: a decision dated at the calendar's end has no IVO day, not an overflow
        return dates.later(
            dates.start_of_day(self.s.decision_date),
            timedelta(seconds=self.s.durations.ivo_after),
        )

    def _next_deadline(self) -> datetime | None:
        due = [self._lifecycle_deadline(), *map(self._escalation_due, self.s.absences)]
        return min((d for d in due if d is not None), default=None)

    def _lifecycle_deadline(self) -> datetime | None:
        if self.s.status == domain.OrderStatus.unconfirmed:
            due = [self._reminder_due()]
            if not self.s.ivo_notified:
                due.append(self._ivo_due())
            return min(due)
        if self.s.status == domain.OrderStatus.confirmed and self.s.start_date is not None:
            return dates.start_of_day(self.s.start_date)
        return None

    def _finished(self) -> bool:
        if self.s.status == domain.OrderStatus.withdrawn:
            return True
        if self.s.status == domain.OrderStatus.ended and self.s.end_date is not None:
            last_period = self.s.end_date.strftime("%Y-%m")
            return (
                self.s.invoiced_through is not None
                and self.s.invoiced_through >= last_period
                and all(self._escalation_due(a) is None for a in self.s.absences)
                and not any(self._final_count_due(a) for a in self.s.absences)
            )
        return False

    def _escalation_due(self, absence: AbsenceEntry) -> datetime | None:
        """When the absence has lasted more than 30 days; None if it never will, or is done."""
        if absence.escalated or absence.removed:
            return None
        day = dates.day_after_more_than(
            absence.escalate_after_days,
            from_date=absence.from_date,
            to_date=absence.to_date,
            stay_end=self.s.end_date,
        )
        return None if day is None else dates.start_of_day(day)

    def _final_count_due(self, absence: AbsenceEntry) -> bool:
        return absence_count.final_count_due(
            escalated=absence.escalated,
            removed=absence.removed,
            last_day=dates.last_day(absence.to_date, self.s.end_date),
            told_end=absence.told_end,
            told_removed=absence.told_removed,
        )

    def _first_time(self, event_id: uuid.UUID) -> bool:
        """Remember a signal's event id; False if it was seen before (redelivered)."""
        if str(event_id) in self.s.seen_signals:
            return False
        self.s.seen_signals.append(str(event_id))
        return True

    def _event_id(self, key: str) -> uuid.UUID:
        """An event id fixed by the workflow, so a retried activity writes its event once."""
        return uuid.uuid5(uuid.NAMESPACE_URL, f"{workflow.info().workflow_id}/{key}")

    def _history_is_long(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= self.s.history_limit
        )

    def _month_invoiced(self) -> bool:
        """A month of the ongoing stay was invoiced during this run: the next run starts
        from there, so no run's history grows with the stay's length (and a worker that
        must replay one to deliver a signal replays about a month, not years)."""
        return (
            self.s.status == domain.OrderStatus.ongoing
            and self.s.invoiced_through != self._invoiced_at_start
            and workflow.patched(MONTHLY_RUNS)
        )

    def _set_status(self, status: str) -> None:
        self.s.status = str(status)
        workflow.upsert_search_attributes([ORDER_STATUS.value_set(self.s.status)])
        self._changed = True

    def _check_actor(self, step: str, actor: Actor) -> None:
        """The validators' first rule: the actor's role (and unit) may take this step, as
        the API's own checks allow; an update sent straight to Temporal meets it too."""
        self._check(
            domain.check_actor,
            step=step,
            sub=actor.sub,
            role=actor.role,
            unit=actor.unit,
            order_unit=self.s.unit_id,
        )

    @staticmethod
    def _today() -> date:
        return dates.today_in_stockholm(workflow.now())

    @staticmethod
    def _check(rule, **facts) -> None:  # type: ignore[no-untyped-def]
        try:
            rule(**facts)
        except LifecareError as exc:
            raise refusal(exc) from None
