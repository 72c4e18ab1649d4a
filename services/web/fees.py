"""The fee administrator's pages: tariffs, a customer's fee decisions and invoices, absence
by period and the absence to handle, billing runs, held invoices and their release, and the
CSV export."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Query
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from services.common.auth import Role
from services.common.dates import today_in_stockholm
from services.web import listing
from services.web.client import ApiError, FieldProblem, ServiceDown
from services.web.i18n import gettext_noop as N_
from services.web.pages import Form, Page, Web

router = APIRouter()

INVOICES_PER_PAGE = 50
PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")

HOLD_REASONS = {
    "no_fee_decision": N_("Inget avgiftsbeslut för månaden"),
    "long_absence": N_("Frånvaro över 30 dagar under månaden"),
}
INVOICE_KINDS = {"regular": N_("Ordinarie"), "correction": N_("Rättelse")}

AMOUNT_TEXT = N_("Skriv ett belopp i kronor, till exempel 1234,50.")
TARIFF_CODES: dict[str, tuple[str | None, str]] = {
    "tariff_not_first_of_month": (
        "valid_from",
        N_("En taxa gäller från den första dagen i en månad, till exempel 2026-01-01."),
    ),
    "tariff_billed": (
        "valid_from",
        N_("Månaden är redan fakturerad. En taxa från det datumet skulle ändra fakturorna."),
    ),
    "duplicate_tariff": ("valid_from", N_("Det finns redan en sådan taxa från det datumet.")),
    "bad_amount": ("monthly_amount", AMOUNT_TEXT),
}
DECISION_CODES: dict[str, tuple[str | None, str]] = {
    "above_maxtaxa": (
        "care_monthly_amount",
        N_("Avgiften är högre än maxtaxan för en månad som beslutet gäller."),
    ),
    "no_maxtaxa": (
        "valid_from",
        N_("Det finns ingen maxtaxa för den månaden. Lägg in taxan under Taxor först."),
    ),
    "decision_backwards": ("valid_to", N_("Gäller till kan inte vara före Gäller från.")),
    "unknown_customer": (
        None,
        N_("Avgiftssystemet känner inte till brukaren ännu. Försök igen om en stund."),
    ),
    "bad_amount": ("care_monthly_amount", AMOUNT_TEXT),
}
RUN_CODES: dict[str, tuple[str | None, str]] = {
    "period_not_ended": (
        "period",
        N_("Månaden är inte slut. Avgifter faktureras i efterskott: välj en passerad månad."),
    ),
    "no_tariff": (
        "period",
        N_("Det saknas kosttaxa eller maxtaxa för månaden. Lägg in taxorna under Taxor först."),
    ),
    "run_in_progress": (
        "period",
        N_("En körning för månaden pågår redan. Vänta tills den är klar."),
    ),
    "bad_period": ("period", N_("Skriv perioden som ÅÅÅÅ-MM, till exempel 2026-01.")),
}
RELEASE_CODES: dict[str, tuple[str | None, str]] = {
    "invoice_issued": (None, N_("Fakturan är redan utställd.")),
    "invoice_not_found": (None, N_("Fakturan finns inte.")),
}
HANDLED_CODES: dict[str, tuple[str | None, str]] = {
    "absence_handled": (None, N_("Frånvaron är redan markerad som hanterad.")),
    "absence_changed_since": (
        None,
        N_(
            "Frånvaron har ändrats sedan du såg den. Titta på ändringen nedan och markera "
            "den sedan som hanterad."
        ),
    ),
    "absence_not_found": (None, N_("Frånvaron finns inte.")),
}
# what happened last to an absence to handle, as the list says it
ABSENCE_CHANGES = {
    "registered": N_("Registrerad"),
    "ended": N_("Avslutad"),
    "changed": N_("Ändrad"),
    "removed": N_("Borttagen"),
}
ABSENCES_PER_PAGE = 50
BILLING_DOWN = N_(
    "Tjänsten för avgifter och fakturor svarar inte just nu. Försök igen om en stund."
)
ABSENCE_DOWN = N_("Tjänsten för frånvaro svarar inte just nu. Försök igen om en stund.")


def _values(form: Any) -> dict[str, str]:
    return {k: str(v).strip() for k, v in form.items() if isinstance(v, str)}


def kronor(text: str) -> str | None:
    """An amount typed in kronor ("1 234,50", "1234.5") as the API takes it ("1234.50");
    None when it is no amount."""
    cleaned = text.replace("\u00a0", "").replace(" ", "").removesuffix("kr").replace(",", ".")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0 or amount != round(amount, 2):
        return None
    return f"{amount:.2f}"


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _indexless(error: ApiError) -> ApiError:
    """A refusal of a list body ("0.monthly_amount") as one of its item's fields."""
    error.fields = [
        FieldProblem(re.sub(r"^\d+\.", "", p.field), p.kind, p.message) for p in error.fields
    ]
    return error


# --- Taxor -----------------------------------------------------------------------------------


async def _tariffs_page(page: Page, form: Form, status_code: int = 200) -> Response:
    try:
        tariffs = await page.api.get("billing", "/tariffs", page.token)
    except ServiceDown:
        if not form.problems:
            form.add(None, BILLING_DOWN)
        tariffs, status_code = [], 503
    by_kind: dict[str, list[dict[str, Any]]] = {"food": [], "care_max": []}
    for tariff in sorted(tariffs, key=lambda t: t["valid_from"], reverse=True):
        by_kind.setdefault(tariff["kind"], []).append(tariff)
    return await page.render(
        "fees/tariffs.html",
        status_code,
        form=form,
        by_kind=by_kind,
        today=str(today_in_stockholm()),
    )


@router.get("/avgifter/taxor")
async def tariffs(page: Web) -> Response:
    page.require(Role.fee_admin, Role.admin)
    first = today_in_stockholm().replace(day=1)
    return await _tariffs_page(page, Form(values={"valid_from": str(first)}))


@router.post("/avgifter/taxor")
async def add_tariff(page: Web) -> Response:
    page.require(Role.fee_admin)
    form = await page.form()
    values = _values(form)
    checked = Form(values=values)
    kind = values.get("kind", "")
    amount = kronor(values.get("monthly_amount", ""))
    if kind not in ("food", "care_max"):
        checked.add("kind", N_("Välj vilken taxa det gäller."))
    if amount is None:
        checked.add("monthly_amount", AMOUNT_TEXT)
    valid_from = _day(values.get("valid_from", ""))
    if valid_from is None:
        checked.add("valid_from", N_("Skriv datumet som ÅÅÅÅ-MM-DD."))
    if checked.invalid:
        return await _tariffs_page(page, checked, 422)
    async with page.once(form) as once:
        if once.earlier:
            return once.again()
        try:
            # the API takes the whole list: what is there, with this one added or changed
            existing = await page.api.get("billing", "/tariffs", page.token)
            new = {"kind": kind, "monthly_amount": amount, "valid_from": str(valid_from)}
            body = [
                {k: t[k] for k in ("kind", "monthly_amount", "valid_from")}
                for t in existing
                if (t["kind"], t["valid_from"]) != (kind, str(valid_from))
            ] + [new]
            await page.api.put("billing", "/tariffs", page.token, body)
        except ApiError as error:
            refused = Form(values=values).refused(_indexless(error), TARIFF_CODES)
            return await _tariffs_page(page, refused, error.status)
        except ServiceDown:
            down = Form(values=values)
            down.add(None, BILLING_DOWN)
            return await _tariffs_page(page, down, 503)
        return once.done("/avgifter/taxor", flash=N_("Taxan är sparad."))


# --- a customer's fees and invoices ----------------------------------------------------------


async def _customer_page(
    page: Page, customer_id: uuid.UUID, form: Form, status_code: int = 200
) -> Response:
    customer = await page.api.get("orders", f"/customers/{customer_id}", page.token)
    try:
        found = await page.api.gather(
            decisions=listing.every_row(
                page, "billing", "/fee-decisions", customer_id=str(customer_id)
            ),
            invoices=listing.every_row(page, "billing", "/invoices", customer_id=str(customer_id)),
        )
    except ServiceDown:
        if not form.problems:
            form.add(None, BILLING_DOWN)
        found, status_code = {"decisions": [], "invoices": []}, 503
    decisions = sorted(found["decisions"], key=lambda d: d["valid_from"], reverse=True)
    invoices = sorted(found["invoices"], key=lambda i: (i["period"], i["kind"]), reverse=True)
    return await page.render(
        "fees/customer.html",
        status_code,
        customer=customer,
        decisions=decisions,
        invoices=invoices,
        form=form,
    )


@router.get("/avgifter/brukare/{customer_id:uuid}")
async def customer_fees(page: Web, customer_id: uuid.UUID) -> Response:
    page.require(Role.fee_admin, Role.admin)
    return await _customer_page(page, customer_id, Form())


@router.post("/avgifter/brukare/{customer_id:uuid}")
async def decide_fee(page: Web, customer_id: uuid.UUID) -> Response:
    page.require(Role.fee_admin)
    form = await page.form()
    values = _values(form)
    checked = Form(values=values)
    amount = kronor(values.get("care_monthly_amount", ""))
    if amount is None:
        checked.add("care_monthly_amount", AMOUNT_TEXT)
    if _day(values.get("valid_from", "")) is None:
        checked.add("valid_from", N_("Skriv datumet som ÅÅÅÅ-MM-DD."))
    if values.get("valid_to") and _day(values["valid_to"]) is None:
        checked.add("valid_to", N_("Skriv datumet som ÅÅÅÅ-MM-DD."))
    if checked.invalid:
        return await _customer_page(page, customer_id, checked, 422)
    async with page.once(form) as once:
        if once.earlier:
            return once.again()
        body = {
            "customer_id": str(customer_id),
            "care_monthly_amount": amount,
            "valid_from": values["valid_from"],
            "valid_to": values.get("valid_to") or None,
        }
        try:
            await page.api.post("billing", "/fee-decisions", page.token, body)
        except ApiError as error:
            refused = Form(values=values).refused(error, DECISION_CODES)
            return await _customer_page(page, customer_id, refused, error.status)
        except ServiceDown:
            down = Form(values=values)
            down.add(None, BILLING_DOWN)
            return await _customer_page(page, customer_id, down, 503)
        return once.done(f"/avgifter/brukare/{customer_id}", flash=N_("Avgiftsbeslutet är sparat."))


# --- Frånvaro by period ----------------------------------------------------------------------


async def customers_by_id(page: Page, ids: set[str]) -> dict[str, dict[str, Any]]:
    """The customers of these ids, a hundred to a call, the calls at once."""
    ordered = sorted(ids)
    chunks = [ordered[i : i + 100] for i in range(0, len(ordered), 100)]
    found = await page.api.gather(
        **{
            f"c{n}": page.api.get("orders", "/customers", page.token, id=chunk)
            for n, chunk in enumerate(chunks)
        }
    )
    return {c["id"]: c for answer in found.values() for c in answer}


@router.get("/avgifter/franvaro")
async def absences(
    page: Web,
    start_text: Annotated[str | None, Query(alias="from")] = None,
    end_text: Annotated[str | None, Query(alias="to")] = None,
) -> Response:
    page.require(Role.fee_admin)
    today = today_in_stockholm()
    first = today.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    values = {"from": (start_text or str(first)).strip(), "to": (end_text or str(last)).strip()}
    form = Form(values=values)
    start, end = _day(values["from"]), _day(values["to"])
    if start is None:
        form.add("from", N_("Skriv datumet som ÅÅÅÅ-MM-DD."))
    if end is None:
        form.add("to", N_("Skriv datumet som ÅÅÅÅ-MM-DD."))
    if start and end and end < start:
        form.add("to", N_("Till kan inte vara före Från."))
    rows: list[dict[str, Any]] = []
    customers: dict[str, dict[str, Any]] = {}
    status_code = 422 if form.invalid else 200
    if not form.invalid:
        try:
            rows = await listing.every_row(
                page,
                "absence",
                "/absences",
                limit=listing.WHOLE,
                **{"from": str(start), "to": str(end)},
            )
        except ServiceDown:
            form.add(None, ABSENCE_DOWN)
            status_code = 503
        except ApiError as error:
            form.refused(error, {}, {"from": "from", "to": "to"})
            status_code = error.status
        if rows:
            customers = await customers_by_id(page, {a["customer_id"] for a in rows})
    rows = sorted(rows, key=lambda a: (a["from_date"], a["customer_id"]))
    return await page.render(
        "fees/absences.html", status_code, form=form, rows=rows, customers=customers
    )


# --- Frånvaro att hantera (manual 5.2, 5.3) --------------------------------------------------


async def unhandled_page(page: Page, number: int, form: Form, status_code: int = 200) -> Response:
    """The absences whose last change no fee administrator has handled, a page of them."""
    rows: list[dict[str, Any]] = []
    total = 0
    customers: dict[str, dict[str, Any]] = {}
    try:
        answer = await page.api.call(
            "absence",
            "GET",
            "/absences",
            page.token,
            params={
                "unhandled": "true",
                "limit": ABSENCES_PER_PAGE,
                "offset": (number - 1) * ABSENCES_PER_PAGE,
            },
        )
        rows = answer.json()
        total = int(answer.headers.get("X-Total-Count", len(rows)))
    except ServiceDown:
        form.add(None, ABSENCE_DOWN)
        status_code = 503
    if rows:
        customers = await customers_by_id(page, {a["customer_id"] for a in rows})
    pages = max((total + ABSENCES_PER_PAGE - 1) // ABSENCES_PER_PAGE, 1)
    return await page.render(
        "fees/unhandled.html",
        status_code,
        form=form,
        rows=rows,
        total=total,
        customers=customers,
        changes=ABSENCE_CHANGES,
        sida=number,
        pages=pages,
        page_url=lambda n: f"/avgifter/franvaro/att-hantera?sida={n}",
    )


@router.get("/avgifter/franvaro/att-hantera")
async def unhandled(page: Web, sida: str = "1") -> Response:
    page.require(Role.fee_admin)
    return await unhandled_page(page, max(int(sida), 1) if sida.isdigit() else 1, Form())


@router.post("/avgifter/franvaro/{absence_id:uuid}/hanterad")
async def mark_handled(page: Web, absence_id: uuid.UUID) -> Response:
    """ "Markera som hanterad": the change the fee administrator saw (its revision) is
    handled; a change made since is refused and shown, not marked unseen."""
    page.require(Role.fee_admin)
    form = await page.form()
    revision = str(form.get("revision", ""))
    async with page.once(form) as once:
        if once.earlier:
            return once.again()
        try:
            await page.api.post(
                "absence",
                f"/absences/{absence_id}/handled",
                page.token,
                {"revision": int(revision)} if revision.isdigit() else {},
            )
        except ApiError as error:
            if error.status == 403:
                raise
            return await unhandled_page(page, 1, Form().refused(error, HANDLED_CODES), error.status)
        except ServiceDown:
            down = Form()
            down.add(None, ABSENCE_DOWN)
            return await unhandled_page(page, 1, down, 503)
        return once.done(
            "/avgifter/franvaro/att-hantera", flash=N_("Frånvaron är markerad som hanterad.")
        )


# --- Faktureringskörningar -------------------------------------------------------------------


def _last_month() -> str:
    first = today_in_stockholm().replace(day=1)
    return (first - timedelta(days=1)).strftime("%Y-%m")


@router.get("/avgifter/korningar")
async def runs(page: Web) -> Response:
    page.require(Role.fee_admin, Role.admin)
    return await page.render("fees/runs.html", form=Form(values={"period": _last_month()}))


@router.post("/avgifter/korningar")
async def start_run(page: Web) -> Response:
    page.require(Role.fee_admin, Role.admin)
    form = await page.form()
    values = _values(form)
    if not PERIOD.match(values.get("period", "")):
        checked = Form(values=values)
        checked.add("period", N_("Skriv perioden som ÅÅÅÅ-MM, till exempel 2026-01."))
        return await page.render("fees/runs.html", 422, form=checked)
    async with page.once(form) as once:
        if once.earlier:
            return once.again()
        try:
            run = await page.api.post(
                "billing", "/billing-runs", page.token, {"period": values["period"]}
            )
        except ApiError as error:
            refused = Form(values=values).refused(error, RUN_CODES)
            return await page.render("fees/runs.html", error.status, form=refused)
        except ServiceDown:
            down = Form(values=values)
            down.add(None, BILLING_DOWN)
            return await page.render("fees/runs.html", 503, form=down)
        return once.done(
            f"/avgifter/korningar/{run['id']}",
            flash=N_("Körningen för {period} har startat.").format(period=values["period"]),
        )


@router.get("/avgifter/korningar/{run_id:uuid}")
async def run(page: Web, run_id: uuid.UUID) -> Response:
    page.require(Role.fee_admin, Role.admin)
    found = await page.api.get("billing", f"/billing-runs/{run_id}", page.token)
    return await page.render("fees/run.html", run=found)


# --- Fakturor --------------------------------------------------------------------------------


@router.get("/avgifter/fakturor")
async def invoices(page: Web, period: str = "", status: str = "", sida: str = "1") -> Response:
    page.require(Role.fee_admin, Role.admin)
    period, status = period.strip(), status if status in ("issued", "held") else ""
    number = max(int(sida), 1) if sida.isdigit() else 1
    form = Form(values={"period": period, "status": status})
    rows: list[dict[str, Any]] = []
    status_code = 200
    if period and not PERIOD.match(period):
        form.add("period", N_("Skriv perioden som ÅÅÅÅ-MM, till exempel 2026-01."))
        status_code = 422
    else:
        try:
            rows = await page.api.get(
                "billing",
                "/invoices",
                page.token,
                period=period,
                status=status,
                limit=INVOICES_PER_PAGE + 1,
                offset=(number - 1) * INVOICES_PER_PAGE,
            )
        except ServiceDown:
            form.add(None, BILLING_DOWN)
            status_code = 503
    more = len(rows) > INVOICES_PER_PAGE
    return await page.render(
        "fees/invoices.html",
        status_code,
        form=form,
        rows=rows[:INVOICES_PER_PAGE],
        sida=number,
        more=more,
        period=period,
        status=status,
    )


async def _invoice_page(
    page: Page, invoice_id: uuid.UUID, form: Form, status_code: int = 200
) -> Response:
    invoice = await page.api.get("billing", f"/invoices/{invoice_id}", page.token)
    try:
        customer = await page.api.get("orders", f"/customers/{invoice['customer_id']}", page.token)
    except (ApiError, ServiceDown):
        customer = None
    return await page.render(
        "fees/invoice.html",
        status_code,
        invoice=invoice,
        customer=customer,
        form=form,
        hold_reasons=HOLD_REASONS,
        invoice_kinds=INVOICE_KINDS,
    )


@router.get("/avgifter/fakturor/{invoice_id:uuid}")
async def invoice(page: Web, invoice_id: uuid.UUID) -> Response:
    page.require(Role.fee_admin, Role.admin)
    return await _invoice_page(page, invoice_id, Form())


@router.post("/avgifter/fakturor/{invoice_id:uuid}/slapp")
async def release(page: Web, invoice_id: uuid.UUID) -> Response:
    page.require(Role.fee_admin)
    form = await page.form()
    async with page.once(form) as once:
        if once.earlier:
            return once.again()
        try:
            issued = await page.api.post("billing", f"/invoices/{invoice_id}/release", page.token)
        except ApiError as error:
            if error.status in (403, 404):
                raise
            refused = Form().refused(error, RELEASE_CODES)
            return await _invoice_page(page, invoice_id, refused, error.status)
        except ServiceDown:
            down = Form()
            down.add(None, BILLING_DOWN)
            return await _invoice_page(page, invoice_id, down, 503)
        return once.done(
            f"/avgifter/fakturor/{invoice_id}",
            flash=N_("Fakturan är släppt och utställd med nummer {number}.").format(
                number=issued["number"]
            ),
        )


@router.get("/avgifter/export")
async def export(page: Web, period: str = "") -> Response:
    """The month's issued invoices as the billing service writes them (CSV), streamed on
    as it comes."""
    page.require(Role.fee_admin, Role.admin)
    if not PERIOD.match(period):
        return RedirectResponse("/avgifter/fakturor", status_code=303)
    http = page.api.http
    request = http.build_request(
        "GET",
        page.api.base["billing"] + "/invoices/export",
        params={"period": period},
        headers={"Authorization": f"Bearer {page.token}"},
    )
    try:
        answer = await http.send(request, stream=True)
    except httpx.HTTPError as exc:
        raise ServiceDown("billing") from exc
    if answer.status_code >= 400:
        await answer.aclose()
        if answer.status_code >= 500:
            raise ServiceDown("billing")
        raise ApiError(answer.status_code, f"http_{answer.status_code}", answer.reason_phrase)
    disposition = answer.headers.get(
        "content-disposition", f'attachment; filename="fakturor-{period}.csv"'
    )
    return StreamingResponse(
        answer.aiter_bytes(),
        media_type=answer.headers.get("content-type", "text/csv; charset=utf-8"),
        headers={"Content-Disposition": disposition},
        background=BackgroundTask(answer.aclose),
    )
