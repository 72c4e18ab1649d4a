"""The final count of a long absence (issue 17 point 3): when an escalated absence gets its
last day, or is removed, the fee administrators get one more notice with its whole count
and the held invoices waiting; one per end, and a later end replaces the earlier."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date, timedelta

from tests.workflows.test_absence_escalation import (
    PROVIDER,
    _absence,
    _next,
    _noon,
    _signalled,
    _stay,
    _until,
)
from workflows.models import EndRequest, InvoiceIssued
from workflows.order_lifecycle import OrderLifecycle

FEES = "group:avgifter"


def _per_month(first: date, last: date) -> str:
    """The notice's "per månad" figures, counted day by day."""
    counted = Counter(
        (first + timedelta(days=n)).strftime("%Y-%m") for n in range((last - first).days + 1)
    )
    return ", ".join(f"{month}: {days}" for month, days in sorted(counted.items()))


def _final_counts(fakes) -> list:
    return [n for n in fakes.sent_to(FEES) if n.kind == "absence.final_count"]


async def test_an_escalated_absence_that_gets_its_end_gets_one_final_count(env, fakes):
    today = await _noon(env)
    handle = await _stay(env, fakes, start=today - timedelta(days=60))
    first = today - timedelta(days=40)
    fakes.held_periods = [first.strftime("%Y-%m")]
    absence = _absence(first)
    await _signalled(handle, absence)
    await _until(lambda: fakes.escalations)  # 40 days so far: escalated at once
    assert _final_counts(fakes) == []

    last = today - timedelta(days=2)
    ended = _next(absence, to_date=last)
    await _signalled(handle, ended)
    (notice,) = await _until(lambda: _final_counts(fakes))
    await handle.signal(OrderLifecycle.absence_changed, ended)  # the same event again
    await env.sleep(timedelta(days=5))

    assert _final_counts(fakes) == [notice]
    assert notice.to == [FEES] and notice.customer_number == "100042"
    assert notice.subject == "Frånvaro över 30 dagar avslutad, kund 100042"
    assert f"Datum för frånvaro: {first} – {last}." in notice.body
    assert "Antal hela dagar utan kost: 39 " in notice.body
    assert f"(per månad {_per_month(first, last)})" in notice.body
    assert f"Vilande fakturor väntar på granskning för {first:%Y-%m}" in notice.body
    assert "ersätter" not in notice.body
    (asked,) = fakes.held_asked
    assert asked.first_day == first.replace(day=1) and asked.last_day == last


async def test_a_later_change_of_the_end_sends_one_notice_that_replaces_the_earlier(env, fakes):
    today = await _noon(env)
    handle = await _stay(env, fakes, start=today - timedelta(days=90))
    first = today - timedelta(days=70)
    absence = _absence(first, reason="short_term_care")
    await _signalled(handle, absence)
    ended = _next(absence, to_date=today - timedelta(days=30))
    await _signalled(handle, ended)
    await _until(lambda: _final_counts(fakes))

    later = today - timedelta(days=20)
    await _signalled(handle, _next(ended, to_date=later))
    earlier, replacing = await _until(
        lambda: len(_final_counts(fakes)) == 2 and _final_counts(fakes)
    )
    await env.sleep(timedelta(days=3))

    assert len(_final_counts(fakes)) == 2
    assert earlier.event_id != replacing.event_id  # a new notice, not a retried one
    assert replacing.subject == "Ändrad: Frånvaro över 30 dagar avslutad, kund 100042"
    assert replacing.body.startswith("Detta besked ersätter det tidigare om frånvaron.")
    assert f"Datum för frånvaro: {first} – {later}." in replacing.body
    assert "Antal hela dagar utan kost: 51 " in replacing.body
    assert "korttidsvistelse" in replacing.body
    assert "Inga vilande fakturor väntar för frånvaron." in replacing.body


async def test_removing_an_escalated_absence_sends_a_notice(env, fakes):
    today = await _noon(env)
    handle = await _stay(env, fakes, start=today - timedelta(days=60))
    first = today - timedelta(days=35)
    absence = _absence(first)
    await _signalled(handle, absence)
    await _until(lambda: fakes.escalations)

    await _signalled(handle, _next(absence, removed=True))
    (notice,) = await _until(lambda: _final_counts(fakes))
    await env.sleep(timedelta(days=3))

    assert len(_final_counts(fakes)) == 1
    assert notice.subject == "Frånvaro över 30 dagar borttagen, kund 100042"
    assert f"från {first} är borttagen" in notice.body and "(0 dagar)" in notice.body


async def test_an_absence_that_was_not_escalated_gets_no_final_count(env, fakes):
    today = await _noon(env)
    handle = await _stay(env, fakes, start=today - timedelta(days=30))
    absence = _absence(today - timedelta(days=20))
    await _signalled(handle, absence)
    await _signalled(handle, _next(absence, to_date=today - timedelta(days=1)))
    await env.sleep(timedelta(days=40))

    assert fakes.escalations == [] and fakes.sent_to(FEES) == []


async def test_the_stays_end_is_the_end_of_an_escalated_open_absence_once(env, fakes):
    today = await _noon(env)
    handle = await _stay(env, fakes, start=today - timedelta(days=60))
    first = today - timedelta(days=40)
    absence = _absence(first)
    await _signalled(handle, absence)
    await _until(lambda: fakes.escalations)

    end = today
    await handle.execute_update(
        OrderLifecycle.end,
        EndRequest(end_date=end, reason="deceased", confirmed=True, actor=PROVIDER),
    )
    (notice,) = await _until(lambda: _final_counts(fakes))
    # the absence service ends the absence on the stay's last day: the same end, no notice
    await _signalled(handle, _next(absence, to_date=end))
    await handle.signal(
        OrderLifecycle.invoice_issued,
        InvoiceIssued(event_id=uuid.uuid4(), period=end.strftime("%Y-%m")),
    )
    final = await handle.result()

    assert final.status == "ended"
    assert _final_counts(fakes) == [notice]
    assert f"Datum för frånvaro: {first} – {end}." in notice.body
    assert "Antal hela dagar utan kost: 41 " in notice.body


async def test_an_end_taken_back_and_given_again_sends_a_replacing_count_only_then(env, fakes):
    today = await _noon(env)
    handle = await _stay(env, fakes, start=today - timedelta(days=60))
    first = today - timedelta(days=45)
    absence = _absence(first)
    await _signalled(handle, absence)
    ended = _next(absence, to_date=today - timedelta(days=10))
    await _signalled(handle, ended)
    await _until(lambda: _final_counts(fakes))

    reopened = _next(ended, to_date=None)  # "Ändra" with no last day: absent again
    await _signalled(handle, reopened)
    await env.sleep(timedelta(days=2))
    assert len(_final_counts(fakes)) == 1  # nothing to count while it is open

    last = today + timedelta(days=1)
    await _signalled(handle, _next(reopened, to_date=last))
    _, replacing = await _until(lambda: len(_final_counts(fakes)) == 2 and _final_counts(fakes))
    assert replacing.subject.startswith("Ändrad: ")
    assert f"Datum för frånvaro: {first} – {last}." in replacing.body
    assert "Antal hela dagar utan kost: 47 " in replacing.body
