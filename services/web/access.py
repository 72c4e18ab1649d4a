"""Access to one unit ("Behörigheter"), for its Behörighetsadministratör (unit_admin): who
has access, giving a person the role of Utförare or Behörighetsadministratör there, and
ending it. The identity service decides (a unit_admin acts at its own unit only); its
refusals are shown on the page."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from services.common.auth import Role
from services.common.dates import today_in_stockholm
from services.web.client import ApiError, ServiceDown
from services.web.i18n import gettext_noop as N_
from services.web.pages import Form, Page, Web
from services.web.tokens import Identity

router = APIRouter()

# the roles a unit_admin gives at its unit
UNIT_ROLES = (Role.provider, Role.unit_admin)
CODES: dict[str, tuple[str | None, str]] = {
    "membership_exists": (None, N_("Personen har redan den rollen på enheten de dagarna.")),
    "role_not_grantable": ("role", N_("Du kan ge rollerna utförare och behörighetsadministratör.")),
    "valid_to_before_from": ("valid_to", N_("Sista dagen kan inte vara före första dagen.")),
    "membership_ended": (None, N_("Behörigheten har redan upphört.")),
    "membership_ends_earlier": (None, N_("Behörigheten upphör redan tidigare.")),
    "other_unit": (None, N_("Du kan bara ändra behörigheter på din egen enhet.")),
    "membership_not_found": (None, N_("Behörigheten finns inte.")),
}
FIELDS = {"sub": "sub", "name": "name", "role": "role", "valid_from": "valid_from"}
DOWN = N_("Tjänsten för inloggning och behörigheter svarar inte just nu. Försök igen om en stund.")


def _identity(page: Page) -> Identity:
    return page.request.app.state.identity  # type: ignore[no-any-return]


async def _page(page: Page, form: Form, status_code: int = 200) -> Response:
    unit = page.unit or ""
    try:
        rows: list[dict[str, Any]] = await _identity(page).as_person(
            page.token, "GET", f"/units/{unit}/memberships"
        )
    except ServiceDown:
        form.add(None, DOWN)
        rows, status_code = [], 503
    except ApiError as error:
        form.refused(error, CODES)
        rows, status_code = [], error.status
    rows.sort(key=lambda r: (r["name"].lower(), r["role"], r["valid_from"]))
    return await page.render(
        "access/unit.html",
        status_code,
        form=form,
        memberships=rows,
        roles=[(r.value, r) for r in UNIT_ROLES],
        unit_name=page.session.unit_names.get(unit, unit),
        today=today_in_stockholm().isoformat(),
    )


@router.get("/behorigheter")
async def access(page: Web) -> Response:
    page.require(Role.unit_admin)
    return await _page(page, Form())


def _checked(values: dict[str, str]) -> Form:
    form = Form(values=values)
    if not values.get("sub"):
        form.add("sub", N_("Fyll i personens användarnamn hos inloggningstjänsten."))
    if not values.get("name"):
        form.add("name", N_("Fyll i fältet."))
    if values.get("role") not in {r.value for r in UNIT_ROLES}:
        form.add("role", N_("Välj en av rollerna."))
    for name in ("valid_from", "valid_to"):
        if values.get(name):
            try:
                date.fromisoformat(values[name])
            except ValueError:
                form.add(name, N_("Skriv datumet som ÅÅÅÅ-MM-DD."))
    return form


@router.post("/behorigheter")
async def add(page: Web) -> Response:
    page.require(Role.unit_admin)
    posted = await page.form()
    values = {k: str(v).strip() for k, v in posted.items() if isinstance(v, str)}
    form = _checked(values)
    if form.invalid:
        return await _page(page, form, 422)
    body = {
        "sub": values["sub"],
        "name": values["name"],
        "role": values["role"],
        "unit": page.unit,
        "valid_from": values.get("valid_from") or None,
        "valid_to": values.get("valid_to") or None,
    }
    async with page.once(posted) as once:
        if once.earlier:
            return once.again()
        try:
            await _identity(page).as_person(page.token, "POST", "/memberships", body)
        except ApiError as error:
            return await _page(
                page, Form(values=values).refused(error, CODES, FIELDS), error.status
            )
        except ServiceDown:
            down = Form(values=values)
            down.add(None, DOWN)
            return await _page(page, down, 503)
        return once.done(
            "/behorigheter",
            N_("{name} har fått behörighet.").format(name=values["name"]),
        )


@router.post("/behorigheter/{membership_id}/avsluta")
async def end(page: Web, membership_id: uuid.UUID) -> Response:
    page.require(Role.unit_admin)
    posted = await page.form()
    last_day = str(posted.get("valid_to", "")).strip()
    form = Form(values={"valid_to": last_day})
    try:
        date.fromisoformat(last_day)
    except ValueError:
        form.add(None, N_("Skriv sista dagen som ÅÅÅÅ-MM-DD."))
        return await _page(page, form, 422)
    async with page.once(posted) as once:
        if once.earlier:
            return once.again()
        try:
            ended = await _identity(page).as_person(
                page.token, "POST", f"/memberships/{membership_id}/end", {"valid_to": last_day}
            )
        except ApiError as error:
            return await _page(page, Form().refused(error, CODES), error.status)
        except ServiceDown:
            down = Form()
            down.add(None, DOWN)
            return await _page(page, down, 503)
        return once.done(
            "/behorigheter",
            N_("Behörigheten för {name} upphör {day}.").format(name=ended["name"], day=last_day),
        )
