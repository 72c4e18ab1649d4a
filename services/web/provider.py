"""The provider's pages (the manual's chapters 3, 4 and 5): orders to read, print and
confirm ("Ej bekräftade beställningar", "Bekräftade"), "Sök brukare" and the customer's
record with "Verkställigheter" (ending one: "Avsluta verkställighet") and "Frånvaro"
("Lägg till", "Ändra", removing one registered by mistake)."""

from __future__ import annotations

import math
import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.common.auth import Role
from services.common.dates import today_in_stockholm
from services.web import listing
from services.web.client import ApiError, ServiceDown
from services.web.i18n import gettext_noop as N_
from services.web.labels import ABSENCE_REASONS, END_REASONS
from services.web.pages import Form, Page, Web

router = APIRouter()

PAGE_SIZE = 25  # orders per page under "Bekräftade"
CUSTOMERS_PER_PAGE = 50  # customers per page of "Sök brukare"
ORDER_READERS = (Role.provider, Role.caseworker, Role.admin)

# a service that does not answer, as the person reads it beside what they typed
DOWN = {
    "orders": N_(
        "Tjänsten för beställningar och brukare svarar inte just nu, så inget har sparats. "
        "Det du skrev finns kvar: försök igen om en stund."
    ),
    "absence": N_(
        "Tjänsten för frånvaro svarar inte just nu, så inget har sparats. "
        "Det du skrev finns kvar: försök igen om en stund."
    ),
}
DOWN_ELSE = N_("En tjänst svarar inte just nu, så inget har sparats. Försök igen om en stund.")

# the parts of an order a person may choose to print (manual 3.1): the orders API's parts
# (customer, decision, contacts, needs, other: GET /orders/{id}/print?parts=…) in this
# order, and the page's own status of the order
PARTS: tuple[tuple[str, str], ...] = (
    ("brukare", N_("Brukare")),
    ("insats", N_("Insats och beslut")),
    ("kontakter", N_("Kontaktpersoner")),
    ("behov", N_("Behov och mål")),
    ("text", N_("Övrigt")),
    ("status", N_("Status och verkställighet")),
)

ALREADY_CONFIRMED = N_("Beställningen är redan bekräftad. Datumet kan inte ändras i efterhand.")
CONFIRM_CODES: dict[str, tuple[str | None, str]] = {
    "start_before_decision": (
        "start_date",
        N_("Datumet då insatsen verkställs kan inte vara före beslutsdatumet."),
    ),
    "order_confirmed": ("start_date", ALREADY_CONFIRMED),
    "order_ongoing": ("start_date", ALREADY_CONFIRMED),
    "order_ended": ("start_date", N_("Beställningen är avslutad och kan inte bekräftas.")),
    "order_withdrawn": ("start_date", N_("Beställningen är återkallad och kan inte bekräftas.")),
}
END_CODES: dict[str, tuple[str | None, str]] = {
    "end_before_start": (
        "end_date",
        N_("Datum för avslut kan inte vara före verkställighetens startdatum."),
    ),
    "end_not_confirmed": (
        "confirmed",
        N_("Kryssa i att du är säker på att du vill avsluta verkställigheten."),
    ),
    "execution_ended": (None, N_("Verkställigheten är redan avslutad.")),
    "execution_withdrawn": (None, N_("Verkställigheten kan inte avslutas.")),
    "execution_unconfirmed": (None, N_("Verkställigheten kan inte avslutas.")),
}
ABSENCE_CODES: dict[str, tuple[str | None, str]] = {
    "to_before_from": ("to_date", N_("Till kan inte vara före Från.")),
    "outside_stay": (
        "from_date",
        N_("Frånvaron ligger utanför brukarens vistelse på er enhet. Kontrollera datumen."),
    ),
    "absence_overlaps": (
        "from_date",
        N_(
            "Brukaren har redan frånvaro under några av de dagarna. "
            "Ändra eller ta bort den frånvaron först."
        ),
    ),
    "customer_not_found": (
        None,
        N_(
            "Ingen vistelse för brukaren på din enhet är känd ännu. Om beställningen nyss "
            "bekräftades, försök igen om en stund."
        ),
    ),
    "absence_not_found": (None, N_("Frånvaron finns inte, eller hör inte till din enhet.")),
}


def full_name(customer: dict[str, Any]) -> str:
    return f"{customer['first_name']} {customer['last_name']}"


def unavailable(form: Form, down: ServiceDown) -> Form:
    form.add(None, DOWN.get(down.service, DOWN_ELSE))
    return form


async def refused(
    page: Page,
    template: str,
    problem: ApiError | ServiceDown,
    form: Form,
    codes: dict[str, tuple[str | None, str]],
    fields: dict[str, str] | None = None,
    *,
    statuses: tuple[int, ...] = (409, 422),
    **context: Any,
) -> Response:
    """The form page again, filled in, with what went wrong: a service's refusal at its
    field (its status when it is one of `statuses`, else 422), or a service that did not
    answer (503)."""
    if isinstance(problem, ServiceDown):
        return await page.render(template, 503, form=unavailable(form, problem), **context)
    status = problem.status if problem.status in statuses else 422
    return await page.render(
        template, status, form=form.refused(problem, codes, fields or {}), **context
    )


def posted(form: Any) -> dict[str, str]:
    return {k: str(v) for k, v in form.items() if isinstance(v, str)}


def page_number(sida: str | None) -> int:
    try:
        return max(1, int(sida or 1))
    except ValueError:
        return 1


# --- orders: "Ej bekräftade beställningar" and "Bekräftade" ----------------------------------


@router.get("/bestallningar")
async def unconfirmed(page: Web, enhet: str | None = None, sida: str | None = None) -> Response:
    page.require(*ORDER_READERS)
    number = page_number(sida)
    params = {"status": "unconfirmed", "limit": PAGE_SIZE, "offset": (number - 1) * PAGE_SIZE}
    if enhet and page.role != Role.provider:
        params["unit_id"] = enhet
    listing = page.api.call("orders", "GET", "/orders", page.token, params=params)
    if page.role == Role.provider:
        answer, units = await listing, []
    else:
        found = await page.api.gather(
            answer=listing, units=page.api.get("orders", "/units", page.token)
        )
        answer, units = found["answer"], found["units"]
    orders = answer.json()
    total = int(answer.headers.get("x-total-count", len(orders)))

    def url(n: int) -> str:
        return "/bestallningar?" + urlencode({"enhet": enhet, "sida": n} if enhet else {"sida": n})

    return await page.render(
        "provider/unconfirmed.html",
        orders=orders,
        units=units,
        unit_filter=enhet or "",
        total=total,
        page_number=number,
        pages=max(1, math.ceil(total / PAGE_SIZE)),
        page_url=url,
    )


@router.get("/bestallningar/bekraftade")
async def confirmed(page: Web, q: str = "", sida: str | None = None) -> Response:
    page.require(*ORDER_READERS)
    number = page_number(sida)
    answer = await page.api.call(
        "orders",
        "GET",
        "/orders",
        page.token,
        params={
            "status": "confirmed",
            "q": q.strip(),
            "limit": PAGE_SIZE,
            "offset": (number - 1) * PAGE_SIZE,
        },
    )
    orders = answer.json()
    total = int(answer.headers.get("x-total-count", len(orders)))
    pages = max(1, math.ceil(total / PAGE_SIZE))

    def url(n: int) -> str:
        return "/bestallningar/bekraftade?" + urlencode(
            {"q": q.strip(), "sida": n} if q.strip() else {"sida": n}
        )

    return await page.render(
        "provider/confirmed.html",
        orders=orders,
        q=q,
        total=total,
        page_number=number,
        pages=pages,
        page_url=url,
        first=(number - 1) * PAGE_SIZE + 1,
    )


async def _order_and_customer(page: Page, order_id: uuid.UUID) -> tuple[dict, dict]:
    order = await page.api.get("orders", f"/orders/{order_id}", page.token)
    customer = await page.api.get("orders", f"/customers/{order['customer_id']}", page.token)
    return order, customer


@router.get("/bestallningar/{order_id:uuid}")
async def order_page(page: Web, order_id: uuid.UUID) -> Response:
    order, customer = await _order_and_customer(page, order_id)
    return await page.render("provider/order.html", order=order, customer=customer, form=Form())


@router.post("/bestallningar/{order_id:uuid}/bekrafta")
async def confirm(page: Web, order_id: uuid.UUID) -> Response:
    page.require(Role.provider)
    form = await page.form()
    values = posted(form)
    async with page.once(form) as once:
        if once.earlier:
            return once.again()
        order, customer = await _order_and_customer(page, order_id)
        checked = Form(values=values)
        start = values.get("start_date", "").strip()
        if not start:
            checked.add("start_date", N_("Välj datum då insatsen verkställs."))
            return await page.render(
                "provider/order.html", 422, order=order, customer=customer, form=checked
            )
        try:
            await page.api.post(
                "orders", f"/orders/{order_id}/confirm", page.token, {"start_date": start}
            )
        except (ApiError, ServiceDown) as problem:
            return await refused(
                page,
                "provider/order.html",
                problem,
                checked,
                CONFIRM_CODES,
                {"start_date": "start_date"},
                order=order,
                customer=customer,
            )
        return once.done(
            f"/bestallningar/{order_id}", flash=N_("Beställningen är verkställd och bekräftad.")
        )


@router.get("/bestallningar/{order_id:uuid}/skriv-ut")
async def print_order(
    page: Web,
    order_id: uuid.UUID,
    del_: Annotated[list[str], Query(alias="del")] = [],  # noqa: B006 (never mutated)
    valt: str | None = None,
) -> Response:
    order, customer = await _order_and_customer(page, order_id)
    known = [key for key, _ in PARTS]
    chosen = [key for key in known if key in del_]
    if not chosen:
        form = Form()
        if valt is not None:
            form.add("del", N_("Klicka i minst en del att skriva ut."))
        return await page.render(
            "provider/print_choose.html",
            422 if form.invalid else 200,
            order=order,
            customer=customer,
            parts=PARTS,
            form=form,
        )
    return await page.render(
        "provider/print.html",
        order=order,
        customer=customer,
        parts=PARTS,
        chosen=chosen,
        today=today_in_stockholm().isoformat(),
    )


# --- "Sök brukare" and the customer's record -------------------------------------------------


@router.get("/brukare")
async def search_customers(page: Web, q: str = "", efter: str | None = None) -> Response:
    """ "Sök brukare": the customers found, by name, a page at a time."""
    found = await listing.one_page(
        page, "orders", "/customers", efter=efter, q=q.strip(), limit=CUSTOMERS_PER_PAGE
    )
    return await page.render(
        "provider/customers.html",
        customers=found.rows,
        q=q.strip(),
        **listing.links("/brukare", found, efter, q=q.strip()),
    )


def _tabs(page: Page) -> bool:
    """Whether the record shows its "Frånvaro" tab (the roles that read absence)."""
    return page.role in (Role.provider, Role.fee_admin)


@router.get("/brukare/{customer_id:uuid}")
@router.get("/brukare/{customer_id:uuid}/verkstalligheter")
async def record_executions(page: Web, customer_id: uuid.UUID) -> Response:
    found = await page.api.gather(
        customer=page.api.get("orders", f"/customers/{customer_id}", page.token),
        executions=page.api.get("orders", f"/customers/{customer_id}/executions", page.token),
        units=page.api.get("orders", "/units", page.token),
    )
    return await page.render(
        "provider/record.html",
        tab="verkstalligheter",
        customer=found["customer"],
        executions=found["executions"],
        unit_names={u["id"]: u["name"] for u in found["units"]},
        absence_tab=_tabs(page),
    )


@router.get("/brukare/{customer_id:uuid}/franvaro")
async def record_absence(page: Web, customer_id: uuid.UUID) -> Response:
    found = await page.api.gather(
        customer=page.api.get("orders", f"/customers/{customer_id}", page.token),
        absences=listing.every_row(
            page, "absence", "/absences", customer_id=str(customer_id), limit=listing.WHOLE
        ),
    )
    absences = sorted(found["absences"], key=lambda a: a["from_date"], reverse=True)
    return await page.render(
        "provider/record.html",
        tab="franvaro",
        customer=found["customer"],
        absences=absences,
        absence_tab=True,
    )


# --- "Avsluta verkställighet" ----------------------------------------------------------------


async def _execution(page: Page, execution_id: uuid.UUID) -> dict[str, Any]:
    execution = await page.api.get("orders", f"/executions/{execution_id}", page.token)
    found = await page.api.gather(
        customer=page.api.get("orders", f"/customers/{execution['customer_id']}", page.token),
        units=page.api.get("orders", "/units", page.token),
    )
    names = {u["id"]: u["name"] for u in found["units"]}
    return {
        "execution": execution,
        "customer": found["customer"],
        "unit_name": names.get(execution["unit_id"], execution["unit_id"]),
    }


@router.get("/verkstalligheter/{execution_id:uuid}")
async def execution_page(page: Web, execution_id: uuid.UUID) -> Response:
    return await page.render("provider/execution.html", **await _execution(page, execution_id))


@router.get("/verkstalligheter/{execution_id:uuid}/avsluta")
async def end_form(page: Web, execution_id: uuid.UUID) -> Response:
    page.require(Role.provider)
    found = await _execution(page, execution_id)
    if found["execution"]["status"] == "ended":
        return page.redirect(f"/verkstalligheter/{execution_id}")
    return await page.render("provider/end.html", form=Form(), **found)


@router.post("/verkstalligheter/{execution_id:uuid}/avsluta")
async def end(page: Web, execution_id: uuid.UUID) -> Response:
    page.require(Role.provider)
    form = await page.form()
    values = posted(form)
    async with page.once(form) as once:
        if once.earlier:
            return once.again()
        found = await _execution(page, execution_id)
        checked = Form(values=values)
        end_date = values.get("end_date", "").strip()
        reason = values.get("reason", "")
        if not end_date:
            checked.add("end_date", N_("Skriv eller välj datum för avslut."))
        if reason not in END_REASONS:
            checked.add("reason", N_("Välj orsak till avslut."))
        if values.get("confirmed") != "true":
            checked.add(
                "confirmed", N_("Kryssa i att du är säker på att du vill avsluta verkställigheten.")
            )
        if checked.invalid:
            return await page.render("provider/end.html", 422, form=checked, **found)
        try:
            await page.api.post(
                "orders",
                f"/executions/{execution_id}/end",
                page.token,
                {"end_date": end_date, "reason": reason, "confirmed": True},
            )
        except (ApiError, ServiceDown) as problem:
            fields = {"end_date": "end_date", "reason": "reason", "confirmed": "confirmed"}
            return await refused(
                page, "provider/end.html", problem, checked, END_CODES, fields, **found
            )
        return once.done(
            f"/verkstalligheter/{execution_id}", flash=N_("Verkställigheten är avslutad.")
        )


# --- "Frånvaro": "Lägg till", "Ändra", "Ta bort" ---------------------------------------------

ABSENCE_FIELDS = {
    "reason": "reason",
    "description": "description",
    "from_date": "from_date",
    "to_date": "to_date",
}


@router.get("/brukare/{customer_id:uuid}/franvaro/ny")
async def absence_form(page: Web, customer_id: uuid.UUID) -> Response:
    page.require(Role.provider)
    customer = await page.api.get("orders", f"/customers/{customer_id}", page.token)
    return await page.render("provider/absence_new.html", customer=customer, form=Form())


@router.post("/brukare/{customer_id:uuid}/franvaro/ny")
async def add_absence(page: Web, customer_id: uuid.UUID) -> Response:
    page.require(Role.provider)
    form = await page.form()
    values = posted(form)
    async with page.once(form) as once:
        if once.earlier:
            return once.again()
        customer = await page.api.get("orders", f"/customers/{customer_id}", page.token)
        checked = Form(values=values)
        if values.get("reason") not in ABSENCE_REASONS:
            checked.add("reason", N_("Välj orsak till frånvaron."))
        if not values.get("description", "").strip():
            checked.add("description", N_("Skriv en kort beskrivning av frånvaron."))
        if not values.get("from_date", "").strip():
            checked.add("from_date", N_("Välj vilket datum frånvaron gäller från."))
        if checked.invalid:
            return await page.render(
                "provider/absence_new.html", 422, customer=customer, form=checked
            )
        try:
            await page.api.post(
                "absence",
                "/absences",
                page.token,
                {
                    "customer_id": str(customer_id),
                    "reason": values["reason"],
                    "description": values["description"],
                    "from_date": values["from_date"].strip(),
                    "to_date": values.get("to_date", "").strip() or None,
                },
            )
        except (ApiError, ServiceDown) as problem:
            return await refused(
                page,
                "provider/absence_new.html",
                problem,
                checked,
                ABSENCE_CODES,
                ABSENCE_FIELDS,
                customer=customer,
            )
        return once.done(f"/brukare/{customer_id}/franvaro", flash=N_("Frånvaron är registrerad."))


async def _absence(page: Page, absence_id: uuid.UUID) -> tuple[dict, dict]:
    absence = await page.api.get("absence", f"/absences/{absence_id}", page.token)
    customer = await page.api.get("orders", f"/customers/{absence['customer_id']}", page.token)
    return absence, customer


@router.get("/franvaro/{absence_id:uuid}/andra")
async def change_form(page: Web, absence_id: uuid.UUID) -> Response:
    page.require(Role.provider)
    absence, customer = await _absence(page, absence_id)
    form = Form(values={"to_date": str(absence["to_date"] or "")})
    return await page.render(
        "provider/absence_change.html", absence=absence, customer=customer, form=form
    )


@router.post("/franvaro/{absence_id:uuid}/andra")
async def change(page: Web, absence_id: uuid.UUID) -> Response:
    page.require(Role.provider)
    form = await page.form()
    values = posted(form)
    async with page.once(form) as once:
        if once.earlier:
            return once.again()
        absence, customer = await _absence(page, absence_id)
        checked = Form(values=values)
        try:
            await page.api.patch(
                "absence",
                f"/absences/{absence_id}",
                page.token,
                {"to_date": values.get("to_date", "").strip() or None},
            )
        except (ApiError, ServiceDown) as problem:
            return await refused(
                page,
                "provider/absence_change.html",
                problem,
                checked,
                ABSENCE_CODES,
                ABSENCE_FIELDS,
                absence=absence,
                customer=customer,
            )
        return once.done(
            f"/brukare/{absence['customer_id']}/franvaro", flash=N_("Frånvaron är ändrad.")
        )


@router.get("/franvaro/{absence_id:uuid}/ta-bort")
async def remove_form(page: Web, absence_id: uuid.UUID) -> Response:
    page.require(Role.provider)
    absence, customer = await _absence(page, absence_id)
    return await page.render(
        "provider/absence_remove.html", absence=absence, customer=customer, form=Form()
    )


@router.post("/franvaro/{absence_id:uuid}/ta-bort")
async def remove(page: Web, absence_id: uuid.UUID) -> Response:
    page.require(Role.provider)
    form = await page.form()
    async with page.once(form) as once:
        if once.earlier:
            return once.again()
        absence, customer = await _absence(page, absence_id)
        try:
            await page.api.delete("absence", f"/absences/{absence_id}", page.token)
        except (ApiError, ServiceDown) as problem:
            return await refused(
                page,
                "provider/absence_remove.html",
                problem,
                Form(),
                ABSENCE_CODES,
                statuses=(404, 409, 422),
                absence=absence,
                customer=customer,
            )
        return once.done(
            f"/brukare/{absence['customer_id']}/franvaro", flash=N_("Frånvaron är borttagen.")
        )
