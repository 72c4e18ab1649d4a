"""The admin's pages: the provider units, and one customer's audit log."""

from __future__ import annotations

import re
import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from services.common.auth import Role
from services.web import listing
from services.web.client import ApiError, ServiceDown
from services.web.i18n import gettext_noop as N_
from services.web.nav import role_label
from services.web.pages import Form, Page, Web

router = APIRouter()

UNIT_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
UNIT_CODES: dict[str, tuple[str | None, str]] = {
    "unit_exists": ("id", N_("Det finns redan en enhet med det id:t.")),
}
ORDERS_DOWN = N_(
    "Tjänsten för beställningar och brukare svarar inte just nu. Försök igen om en stund."
)
AUDIT_DOWN = N_(
    "Granskningsloggen kan inte visas just nu: alla tjänster svarar inte, och en logg med "
    "luckor visas inte. Försök igen om en stund."
)


async def _units_page(page: Page, form: Form, status_code: int = 200) -> Response:
    try:
        units = await page.api.get("orders", "/units", page.token)
    except ServiceDown:
        if not form.problems:
            form.add(None, ORDERS_DOWN)
        units, status_code = [], 503
    units = sorted(units, key=lambda u: u["name"])
    return await page.render("admin/units.html", status_code, form=form, units=units)


@router.get("/admin/enheter")
async def units(page: Web) -> Response:
    page.require(Role.admin)
    return await _units_page(page, Form())


@router.post("/admin/enheter")
async def add_unit(page: Web) -> Response:
    page.require(Role.admin)
    form = await page.form()
    values = {k: str(v).strip() for k, v in form.items() if isinstance(v, str)}
    checked = Form(values=values)
    if not values.get("id"):
        checked.add("id", N_("Fyll i fältet."))
    elif not UNIT_ID.match(values["id"]) or len(values["id"]) > 64:
        checked.add(
            "id",
            N_(
                "Id får bara ha små bokstäver a–z, siffror, - och _, först en bokstav eller siffra."
            ),
        )
    if not values.get("name"):
        checked.add("name", N_("Fyll i fältet."))
    if checked.invalid:
        return await _units_page(page, checked, 422)
    async with page.once(form) as once:
        if once.earlier:
            return once.again()
        try:
            unit = await page.api.post(
                "orders", "/units", page.token, {"id": values["id"], "name": values["name"]}
            )
        except ApiError as error:
            refused = Form(values=values).refused(error, UNIT_CODES)
            return await _units_page(page, refused, error.status)
        except ServiceDown:
            down = Form(values=values)
            down.add(None, ORDERS_DOWN)
            return await _units_page(page, down, 503)
        return once.done(
            "/admin/enheter", flash=N_("Enheten {name} är sparad.").format(name=unit["name"])
        )


@router.get("/admin/logg")
async def audit_log(page: Web, q: str = "", brukare: str = "") -> Response:
    page.require(Role.admin)
    form = Form(values={"q": q.strip()})
    found: list[dict[str, Any]] = []
    more_found = False
    customer = None
    entries: list[dict[str, Any]] = []
    unit_names: dict[str, str] = {}
    status_code = 200
    if brukare:
        try:
            customer_id = uuid.UUID(brukare)
        except ValueError:
            raise ApiError(404, "not_found", "no such customer") from None
        customer = await page.api.get("orders", f"/customers/{customer_id}", page.token)
        try:
            found_log = await page.api.gather(
                entries=page.api.get("orders", "/audit", page.token, customer_id=str(customer_id)),
                units=page.api.get("orders", "/units", page.token),
            )
            entries = found_log["entries"]
            unit_names = {u["id"]: u["name"] for u in found_log["units"]}
        except ServiceDown:
            form.add(None, AUDIT_DOWN)
            status_code = 503
        entries = sorted(entries, key=lambda e: e["at"], reverse=True)
    elif form["q"]:
        matches = await listing.one_page(
            page, "orders", "/customers", q=form["q"], limit=listing.PICKER_ROWS
        )
        found, more_found = matches.rows, matches.next_cursor is not None
    return await page.render(
        "admin/audit.html",
        status_code,
        form=form,
        found=found,
        more_found=more_found,
        searched=bool(form["q"]) and not brukare,
        customer=customer,
        entries=entries,
        unit_names=unit_names,
        role_label=_role_name,
    )


def _role_name(role: str) -> str:
    """The Swedish name of a role in the log (one the web does not know stays as it is)."""
    try:
        return role_label(role)
    except ValueError:
        return role
