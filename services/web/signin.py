"""Signing in (the manual's chapter 2): who you are, then "Roll" and "Enhet", then on.

In development and tests the person is chosen by user name among the demo people; the
identity issue puts OpenID Connect in front of the same choice."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.common.auth import Role
from services.web import tokens
from services.web.client import ServiceDown
from services.web.i18n import gettext_noop as N_
from services.web.nav import ROLE_NAMES
from services.web.pages import (
    Form,
    Web,
    checked_form,
    live_session,
    render,
    safe_next,
)
from services.web.people import Membership
from services.web.session import COOKIE, Session, SessionStore

router = APIRouter()


def _store(request: Request) -> SessionStore:
    return request.app.state.sessions  # type: ignore[no-any-return]


def _with_cookie(request: Request, response: Response, session: Session) -> Response:
    settings = request.app.state.settings
    response.set_cookie(
        COOKIE,
        session.id,
        httponly=True,
        secure=settings.env != "development",
        samesite="lax",
        path="/",
    )
    return response


def _anonymous(request: Request) -> Session:
    return live_session(request) or _store(request).new()


@router.get("/logga-in")
async def sign_in_page(request: Request, nasta: str | None = None) -> Response:
    session = _anonymous(request)
    page = render(
        request,
        "signin/signin.html",
        session=session,
        form=Form(),
        people=request.app.state.people.shown,
        next=safe_next(nasta),
        role_names=ROLE_NAMES,
    )
    return _with_cookie(request, page, session)


@router.post("/logga-in")
async def sign_in(request: Request) -> Response:
    old = _anonymous(request)
    form = await checked_form(request, old)
    user = str(form.get("user", "")).strip()
    back = safe_next(str(form.get("next", "")))
    person = request.app.state.people.find(user)
    if person is None:
        problem = Form(values={"user": user})
        problem.add(
            "user",
            N_("Det finns ingen användare som heter så. Skriv till exempel anna.")
            if user
            else N_("Skriv ditt användarnamn."),
        )
        page = render(
            request,
            "signin/signin.html",
            422,
            session=old,
            form=problem,
            people=request.app.state.people.shown,
            next=back,
            role_names=ROLE_NAMES,
        )
        return _with_cookie(request, page, old)
    # a new session id once signed in: an id known before signing in is worth nothing
    _store(request).end(old)
    session = _store(request).new()
    session.person = person
    saved = _store(request).saved_choices.get(person.sub)
    if saved is not None and saved in person.memberships:
        return _with_cookie(request, await _choose(request, session, saved, back), session)
    return _with_cookie(request, RedirectResponse(_choice_url(back), status_code=303), session)


def _choice_url(back: str) -> str:
    return "/val" + (f"?nasta={back}" if back != "/" else "")


async def _choose(
    request: Request, session: Session, membership: Membership, back: str
) -> Response:
    if membership.unit and membership.unit not in session.unit_names:
        session.unit_names = await _unit_names(request, session)
    session.membership = membership
    tokens.renew(request.app.state.settings, session)
    return RedirectResponse(back, status_code=303)


async def _unit_names(request: Request, session: Session) -> dict[str, str]:
    """The names of the person's units, as the orders service knows them."""
    person = session.person
    assert person is not None
    units = {m.unit for m in person.memberships if m.unit}
    if not units:
        return {}
    probe = Session(
        id="", csrf="", person=person, membership=next(m for m in person.memberships if m.unit)
    )
    tokens.renew(request.app.state.settings, probe)
    try:
        known = await request.app.state.api.get("orders", "/units", probe.token)
    except ServiceDown:
        known = []
    names = {u["id"]: u["name"] for u in known}
    return {unit: names.get(unit, unit) for unit in sorted(units)}


@router.get("/val")
async def choice_page(request: Request, nasta: str | None = None) -> Response:
    session = live_session(request)
    if session is None or session.person is None:
        return RedirectResponse("/logga-in", status_code=303)
    return await _choice(request, session, Form(), safe_next(nasta))


async def _choice(
    request: Request, session: Session, form: Form, back: str, status_code: int = 200
) -> Response:
    person = session.person
    assert person is not None
    chosen = session.membership or _store(request).saved_choices.get(person.sub)
    roles = person.roles()
    role = form["role"] or (chosen.role.value if chosen else roles[0].value)
    units = await _unit_names(request, session)
    session.unit_names = units
    return render(
        request,
        "signin/choice.html",
        status_code,
        session=session,
        form=form,
        roles=roles,
        role=role,
        units=units,
        unit=form["unit"] or (chosen.unit if chosen and chosen.unit else ""),
        memberships=person.memberships,
        role_names=ROLE_NAMES,
        next=back,
        saved=chosen is not None and _store(request).saved_choices.get(person.sub) == chosen,
    )


@router.post("/val")
async def choose(request: Request) -> Response:
    session = live_session(request)
    if session is None or session.person is None:
        return RedirectResponse("/logga-in", status_code=303)
    form = await checked_form(request, session)
    values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    back = safe_next(values.get("next"))
    person = session.person
    try:
        role = Role(values.get("role", ""))
    except ValueError:
        role = None
    unit = values.get("unit") or None
    choice = Form(values=values)
    if role is None or role not in person.roles():
        choice.add("role", N_("Välj en av dina roller."))
    elif person.units(role) and unit not in person.units(role):
        choice.add("unit", N_("Välj en av dina enheter."))
    if choice.invalid:
        return await _choice(request, session, choice, back, 422)
    assert role is not None
    membership = Membership(role, unit if person.units(role) else None)
    if values.get("save"):
        _store(request).saved_choices[person.sub] = membership
    else:
        _store(request).saved_choices.pop(person.sub, None)
    return await _choose(request, session, membership, back)


@router.post("/logga-ut")
async def sign_out(request: Request, page: Web) -> Response:
    await page.form()
    _store(request).end(page.session)
    response = RedirectResponse("/logga-in?utloggad=1", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
