"""Routes of the absence service: register, list, read, change ("Ändra") and remove absence."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from services.absence import domain, service
from services.absence.repository import AbsenceRow
from services.absence.schemas import Absence, AbsenceChange, AbsenceIn, HandledIn
from services.common import audit
from services.common.deps import AppSettings, Caller, Pool, RequestId
from services.common.errors import Invalid
from services.common.paging import PageParams, pages

router = APIRouter(tags=["absence"])
# a page of absences: 500 by default and at most; the sort key is the list's own, so it is
# read per list (a cursor of the one is refused by the other: their filters differ)
AbsencePage = Annotated[
    PageParams,
    Depends(
        pages(default=service.MAX_UNHANDLED, maximum=service.MAX_UNHANDLED, shape=None, offset=True)
    ),
]
LIST_ORDER = ("date", "datetime", "uuid")  # from_date, registered_at, id
UNHANDLED_ORDER = ("datetime", "uuid")  # changed_at, id


def _absence(row: AbsenceRow) -> Absence:
    last = row.last_day
    days = None if last is None else domain.whole_days(row.from_date, last)
    handled = row.handled_revision == row.revision
    return Absence(**row.as_dict(), days_without_meals=days, handled=handled)


@router.post("/absences", status_code=201, response_model=Absence)
async def register_absence(
    body: AbsenceIn, caller: Caller, pool: Pool, settings: AppSettings, request_id: RequestId
) -> Absence:
    """Register a customer's absence at the caller's unit (provider); late registration is fine."""
    row = await service.register(
        pool,
        settings,
        caller,
        request_id,
        customer_id=body.customer_id,
        reason=body.reason.value,
        description=body.description,
        from_date=body.from_date,
        to_date=body.to_date,
    )
    return _absence(row)


@router.get("/absences", response_model=list[Absence])
async def list_absences(
    caller: Caller,
    pool: Pool,
    settings: AppSettings,
    request_id: RequestId,
    response: Response,
    page: AbsencePage,
    current: bool = False,
    customer_id: uuid.UUID | None = None,
    period_from: Annotated[date | None, Query(alias="from")] = None,
    period_to: Annotated[date | None, Query(alias="to")] = None,
    unhandled: bool = False,
) -> list[Absence]:
    """Absences: `current=true` those of today (the home screen's box), by customer, or those
    touching the period `from`–`to`. A provider sees its unit's, of stays current or ended
    within the visibility window; a fee administrator all. By first day; `limit` to a page
    (500, at most 500), the `Link` header's `rel="next"` the next.

    `unhandled=true` (fee administrators): the absences, removed ones too, whose last change
    no fee administrator has marked handled, oldest change first; `limit` and `offset` give
    one page, the header `X-Total-Count` how many there are in all; `offset` is deprecated:
    follow the `Link` header."""
    if unhandled:
        domain.check_unhandled_filters(
            current=current, period_from=period_from, period_to=period_to
        )
        rows, total = await service.list_unhandled(
            pool,
            caller,
            request_id,
            customer_id=customer_id,
            limit=page.limit,
            offset=page.offset,
            after=page.after_as(UNHANDLED_ORDER),
        )
        response.headers["X-Total-Count"] = str(total)
        shown = page.page(response, rows, lambda r: (r.changed_at, r.id))
        return [_absence(row) for row in shown]
    if page.offset:
        raise Invalid("offset pages only the unhandled absences; follow the Link header")
    rows = await service.list_absences(
        pool,
        settings,
        caller,
        request_id,
        current=current,
        customer_id=customer_id,
        period_from=period_from,
        period_to=period_to,
        limit=page.limit,
        after=page.after_as(LIST_ORDER),
    )
    shown = page.page(response, rows, lambda r: (r.from_date, r.registered_at, r.id))
    return [_absence(row) for row in shown]


@router.get("/absences/{absence_id}", response_model=Absence)
async def get_absence(
    absence_id: uuid.UUID, caller: Caller, pool: Pool, request_id: RequestId
) -> Absence:
    return _absence(await service.read(pool, caller, request_id, absence_id))


@router.patch("/absences/{absence_id}", response_model=Absence)
async def change_absence(
    absence_id: uuid.UUID, body: AbsenceChange, caller: Caller, pool: Pool, request_id: RequestId
) -> Absence:
    """ "Ändra": give the absence its last day when the customer is back (provider)."""
    row = await service.change_end(pool, caller, request_id, absence_id, to_date=body.to_date)
    return _absence(row)


@router.post("/absences/{absence_id}/handled", response_model=Absence)
async def mark_handled(
    absence_id: uuid.UUID,
    caller: Caller,
    pool: Pool,
    request_id: RequestId,
    body: HandledIn | None = None,
) -> Absence:
    """ "Markera som hanterad" (fee administrator): the absence's last change is handled; a
    later change makes it unhandled again. 409 when it is handled already, or when it
    changed after the `revision` given."""
    row = await service.mark_handled(
        pool,
        caller,
        request_id,
        absence_id,
        seen_revision=body.revision if body is not None else None,
    )
    return _absence(row)


@router.delete("/absences/{absence_id}", status_code=204)
async def remove_absence(
    absence_id: uuid.UUID, caller: Caller, pool: Pool, request_id: RequestId
) -> Response:
    """Remove an absence registered by mistake (provider); the audit log keeps it."""
    await service.remove(pool, caller, request_id, absence_id)
    return Response(status_code=204)


router.include_router(audit.trail_router("absence"))
