"""The caseworker's pages: register a customer, send an order to a unit, withdraw it, and
the decisions not executed within three months (IVO) with their CSV."""

from __future__ import annotations

import csv
import dataclasses
import io
import uuid
from datetime import date
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from services.common.auth import Role
from services.common.dates import today_in_stockholm
from services.web import listing
from services.web import order_parts as parts
from services.web.client import ApiError, ServiceDown
from services.web.i18n import gettext_noop as N_
from services.web.labels import LIFE_AREAS, SERVICES
from services.web.pages import Form, Page, Web

router = APIRouter()

CUSTOMER_CODES: dict[str, tuple[str | None, str]] = {
    "customer_exists": ("personnummer", N_("Det finns redan en brukare med det personnumret.")),
}
# the orders service's reasons for refusing a personnummer, as a caseworker reads them
PERSONNUMMER_REASONS: tuple[tuple[str, str], ...] = (
    (
        "10 or 12 digits",
        N_("Ett personnummer har 10 eller 12 siffror, till exempel 19121212-1212."),
    ),
    ("is not a date of birth", N_("Födelsedatumet i personnumret finns inte i kalendern.")),
    ("in the future", N_("Födelsedatumet i personnumret ligger i framtiden.")),
    ("living person", N_("Födelsedatumet i personnumret är för tidigt för en levande person.")),
    ("check digit", N_("Kontrollsiffran stämmer inte. Kontrollera att numret är rätt skrivet.")),
)
ORDER_CODES: dict[str, tuple[str | None, str]] = {
    "unknown_customer": ("customer_id", N_("Välj en brukare som finns.")),
    "unknown_unit": ("unit_id", N_("Välj en enhet som finns.")),
    "start_before_decision": (
        "planned_start_date",
        N_("Planerad start kan inte vara före beslutsdatum."),
    ),
}
WITHDRAW_CODES: dict[str, tuple[str | None, str]] = {
    "order_confirmed": (
        None,
        N_("Beställningen har bekräftats av utföraren och kan inte längre återkallas."),
    ),
    "order_ongoing": (
        None,
        N_("Beställningen har bekräftats av utföraren och kan inte längre återkallas."),
    ),
    "order_ended": (None, N_("Verkställigheten är avslutad; beställningen kan inte återkallas.")),
    "order_withdrawn": (None, N_("Beställningen är redan återkallad.")),
    "workflow_completed": (None, N_("Beställningen är avslutad och kan inte längre ändras.")),
}
REPORT_PER_PAGE = 100  # rows of the IVO report per page; its CSV holds every row
UNAVAILABLE = N_(
    "Tjänsten för beställningar och brukare svarar inte just nu. Försök igen om en stund."
)


def _values(form: Any) -> dict[str, str]:
    return {k: str(v).strip() for k, v in form.items() if isinstance(v, str)}


def personnummer_reason(message: str) -> str:
    """The service's reason for refusing a personnummer, in Swedish."""
    for clue, text in PERSONNUMMER_REASONS:
        if clue in message:
            return text
    return N_("Personnumret är inte giltigt.")


# --- Ny brukare ------------------------------------------------------------------------------


@router.get("/brukare/ny")
async def new_customer(page: Web, registrerad: str | None = None) -> Response:
    page.require(Role.caseworker)
    registered = None
    if registrerad:
        registered = await page.api.get("orders", f"/customers/{_uuid(registrerad)}", page.token)
    return await page.render("caseworker/new_customer.html", form=Form(), registered=registered)


@router.post("/brukare/ny")
async def register_customer(page: Web) -> Response:
    page.require(Role.caseworker)
    form = await page.form()
    values = _values(form)
    async with page.once(form) as once:
        if once.earlier:
            return once.again()
        body = {k: values.get(k, "") for k in ("personnummer", "first_name", "last_name")}
        try:
            customer = await page.api.post("orders", "/customers", page.token, body)
        except ApiError as error:
            refused = Form(values=values)
            if error.code == "invalid_personnummer":
                refused.add("personnummer", personnummer_reason(error.message))
            else:
                refused.refused(error, CUSTOMER_CODES)
            return await page.render(
                "caseworker/new_customer.html",
                error.status,
                form=refused,
                registered=None,
            )
        except ServiceDown:
            down = Form(values=values)
            down.add(None, UNAVAILABLE)
            return await page.render(
                "caseworker/new_customer.html", 503, form=down, registered=None
            )
        return once.done(f"/brukare/ny?registrerad={customer['id']}")


# --- Ny beställning --------------------------------------------------------------------------


async def _order_page(
    page: Page,
    form: Form,
    status_code: int = 200,
    *,
    query: str = "",
    chosen: str = "",
    contacts: int = parts.BLANK_ROWS,
    needs: int = parts.BLANK_ROWS,
) -> Response:
    """The order form: the units to choose from, the customers found by `query` (with the
    one chosen before, so a new search does not lose it), and the parts' fields with
    `contacts` and `needs` rows."""
    calls: dict[str, Any] = {"units": page.api.get("orders", "/units", page.token)}
    if query:
        calls["found"] = listing.one_page(
            page, "orders", "/customers", q=query, limit=listing.PICKER_ROWS
        )
    if chosen:
        calls["chosen"] = page.api.get("orders", "/customers", page.token, id=[chosen])
    try:
        answers = await page.api.gather(**calls)
    except ServiceDown:
        form.add(None, UNAVAILABLE)
        answers = {"units": []}
        status_code = 503
    customers: list[dict[str, Any]] = list(answers.get("chosen", []))
    found = answers.get("found")
    for customer in found.rows if found else []:
        if customer["id"] not in {c["id"] for c in customers}:
            customers.append(customer)
    units = sorted(answers["units"], key=lambda u: u["name"])
    return await page.render(
        "caseworker/new_order.html",
        status_code,
        form=form,
        units=[(u["id"], u["name"]) for u in units],
        services=[(code, name) for code, name in SERVICES.items()],
        customers=customers,
        more_found=bool(found and found.next_cursor),
        searched=bool(query),
        query=query,
        chosen=chosen,
        contacts=contacts,
        needs=needs,
        areas=list(LIFE_AREAS.items()),
        max_contacts=parts.MAX_CONTACTS,
        max_needs=parts.MAX_NEEDS,
    )


@router.get("/bestallningar/ny")
async def new_order(page: Web, brukare: str | None = None, q: str | None = None) -> Response:
    page.require(Role.caseworker)
    chosen = str(_uuid(brukare)) if brukare else ""
    form = Form(values={"customer_id": chosen, "q": q or "", **parts.DECISION_DEFAULTS})
    return await _order_page(page, form, query=(q or "").strip(), chosen=chosen)


@router.post("/bestallningar/ny")
async def send_order(page: Web) -> Response:
    page.require(Role.caseworker)
    form = await page.form()
    values = _values(form)
    chosen = values.get("customer_id", "")
    if chosen and not _is_uuid(chosen):
        chosen = ""
    query = values.get("q", "")
    rows = {
        "contacts": parts.row_count(values, "contact", parts.CONTACT_FIELDS, parts.MAX_CONTACTS),
        "needs": parts.row_count(values, "need", parts.NEED_FIELDS, parts.MAX_NEEDS),
    }
    if values.get("do") == "sok":
        searched = Form(values=values)
        if not query:
            searched.add("q", N_("Skriv ett namn, ett personnummer eller ett kundnummer."))
        return await _order_page(page, searched, query=query, chosen=chosen, **rows)
    if values.get("do") in ("fler_kontakter", "fler_behov"):  # "Lägg till": one more row
        more = "contacts" if values["do"] == "fler_kontakter" else "needs"
        most = parts.MAX_CONTACTS if more == "contacts" else parts.MAX_NEEDS
        rows[more] = min(rows[more] + 1, most)
        return await _order_page(page, Form(values=values), query=query, chosen=chosen, **rows)
    checked = Form(values=values)
    if not chosen:
        checked.add("customer_id", N_("Välj en brukare. Sök efter brukaren först."))
    if not values.get("unit_id"):
        checked.add("unit_id", N_("Välj den enhet som ska verkställa beslutet."))
    if not values.get("decision_date"):
        checked.add("decision_date", N_("Fyll i beslutsdatum, ÅÅÅÅ-MM-DD."))
    if not values.get("text") and not parts.rows(values, "need", parts.NEED_FIELDS, rows["needs"]):
        checked.add(
            "text", N_("Beskriv minst ett behov under Behov och mål, eller skriv under Övrigt.")
        )
    if checked.invalid:
        return await _order_page(page, checked, 422, query=query, chosen=chosen, **rows)
    async with page.once(form) as once:
        if once.earlier:
            return once.again()
        body = {
            "customer_id": chosen,
            "unit_id": values.get("unit_id", ""),
            "service": values.get("service") or "sol_boende",
            "decision_date": values.get("decision_date", ""),
            "planned_start_date": values.get("planned_start_date") or None,
            "text": values.get("text") or None,
            "parts": parts.parts_body(values, **rows),
        }
        try:
            order = await page.api.post("orders", "/orders", page.token, body)
        except ApiError as error:
            refused = Form(values=values)
            placed = parts.place_refusal(refused, error, values, **rows)
            rest = [p for p in error.fields if not p.field.startswith("parts")]
            if not placed or rest:
                refused.refused(
                    dataclasses.replace(error, fields=rest) if placed else error, ORDER_CODES
                )
            return await _order_page(page, refused, 422, query=query, chosen=chosen, **rows)
        except ServiceDown:
            down = Form(values=values)
            down.add(None, UNAVAILABLE)
            return await _order_page(page, down, 503, query=query, chosen=chosen, **rows)
        return once.done(
            f"/bestallningar/{order['id']}",
            flash=N_("Beställningen är skickad till {unit}.").format(unit=order["unit_name"]),
        )


# --- Återkalla beställning -------------------------------------------------------------------


@router.get("/bestallningar/{order_id:uuid}/aterkalla")
async def withdraw_page(page: Web, order_id: uuid.UUID) -> Response:
    page.require(Role.caseworker)
    order = await page.api.get("orders", f"/orders/{order_id}", page.token)
    return await page.render("caseworker/withdraw.html", order=order, form=Form())


@router.post("/bestallningar/{order_id:uuid}/aterkalla")
async def withdraw(page: Web, order_id: uuid.UUID) -> Response:
    page.require(Role.caseworker)
    form = await page.form()
    values = _values(form)
    async with page.once(form) as once:
        if once.earlier:
            return once.again()
        try:
            await page.api.post(
                "orders",
                f"/orders/{order_id}/withdraw",
                page.token,
                {"reason": values.get("reason", "")},
            )
        except ApiError as error:
            if error.status in (403, 404):
                raise
            refused = Form(values=values).refused(error, WITHDRAW_CODES)
            order = await page.api.get("orders", f"/orders/{order_id}", page.token)
            return await page.render(
                "caseworker/withdraw.html", error.status, order=order, form=refused
            )
        except ServiceDown:
            down = Form(values=values)
            down.add(None, UNAVAILABLE)
            order = {"id": str(order_id), "status": "unconfirmed"}
            return await page.render("caseworker/withdraw.html", 503, order=order, form=down)
        return once.done(
            f"/bestallningar/{order_id}/aterkalla", flash=N_("Beställningen är återkallad.")
        )


# --- Ej verkställda beslut (IVO) -------------------------------------------------------------


def _waited(orders: list[dict[str, Any]], today: date) -> list[dict[str, Any]]:
    """The report's rows, the longest wait first, with the days since the decision."""
    rows = [
        {**order, "days": (today - date.fromisoformat(order["decision_date"])).days}
        for order in orders
    ]
    return sorted(rows, key=lambda row: (-row["days"], row["customer_number"]))


@router.get("/rapporter/ej-verkstallda")
async def unexecuted(page: Web, efter: str | None = None) -> Response:
    """The IVO report a page at a time, the longest wait first; the CSV holds every row."""
    page.require(Role.caseworker, Role.admin)
    found = await listing.one_page(
        page, "orders", "/reports/unexecuted-decisions", efter=efter, limit=REPORT_PER_PAGE
    )
    today = today_in_stockholm()
    return await page.render(
        "caseworker/unexecuted.html",
        rows=_waited(found.rows, today),
        today=today,
        **listing.links("/rapporter/ej-verkstallda", found, efter),
    )


@router.get("/rapporter/ej-verkstallda.csv")
async def unexecuted_csv(page: Web) -> Response:
    """The IVO report for Excel: semicolons, UTF-8 with a byte order mark."""
    page.require(Role.caseworker, Role.admin)
    orders = await listing.every_row(
        page, "orders", "/reports/unexecuted-decisions", limit=listing.WHOLE
    )
    today = today_in_stockholm()
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(
        [
            "Kundnummer",
            "Brukare",
            "Enhet",
            "Insats",
            "Beslutsdatum",
            "Planerad start",
            "Dagar sedan beslut",
        ]
    )
    for row in _waited(orders, today):
        writer.writerow(
            [
                row["customer_number"],
                row["customer_name"],
                row["unit_name"],
                SERVICES.get(row["service"], row["service"]),
                row["decision_date"],
                row["planned_start_date"] or "",
                row["days"],
            ]
        )
    return Response(
        "\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="ej-verkstallda-beslut-{today}.csv"'
        },
    )


# --- helpers ---------------------------------------------------------------------------------


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _uuid(text: str) -> uuid.UUID:
    """An id from the address; a wrong one is a page not found."""
    try:
        return uuid.UUID(text)
    except ValueError:
        raise ApiError(404, "not_found", "no such page") from None
