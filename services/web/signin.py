"""Signing in (the manual's chapter 2): who you are, then "Roll" and "Enhet", then on.

Who you are is the OpenID Connect provider's to say (oidc.py: the authorization code flow
with PKCE); which roles at which units you have, the identity service's, which then issues
the platform's token for the one you chose. Without a provider configured (development and
tests only) the person is chosen by user name among the demo people instead."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.common.auth import Role
from services.web import oidc, tokens
from services.web.client import ApiError, ServiceDown
from services.web.i18n import gettext_noop as N_
from services.web.nav import ROLE_NAMES
from services.web.pages import (
    Form,
    checked_form,
    live_session,
    render,
    safe_next,
)
from services.web.people import Membership, Person
from services.web.session import COOKIE, Session, SessionStore
from services.web.session_middleware import end_session, new_session

log = logging.getLogger(__name__)
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
    return live_session(request) or new_session(request)


@router.get("/logga-in")
async def sign_in_page(
    request: Request,
    nasta: str | None = None,
    utloggad: str | None = None,
    avslutad: str | None = None,
) -> Response:
    session = _anonymous(request)
    provider: oidc.OidcClient | None = request.app.state.oidc
    if provider is not None:
        if not (utloggad or avslutad):  # straight on to the provider
            return await _start(request, session, safe_next(nasta))
        page = render(
            request,
            "signin/provider.html",
            session=session,
            next=safe_next(nasta),
            ended=bool(avslutad),
        )
        return _with_cookie(request, page, session)
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
    if request.app.state.oidc is not None:  # no demo people beside a provider
        person = None
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
    return await _signed_in(request, old, person, back)


async def _signed_in(request: Request, old: Session, person: Person, back: str) -> Response:
    """The person is known: a new session (an id known before signing in is worth
    nothing), then their saved choice of role and unit, or the choice."""
    end_session(request, old)
    session = new_session(request)
    session.person = person
    session.id_token = old.id_token
    saved = await _store(request).saved_choice(person.sub)
    if saved is not None and saved in person.memberships:
        return _with_cookie(request, await _choose(request, session, saved, back), session)
    return _with_cookie(request, RedirectResponse(_choice_url(back), status_code=303), session)


# --- through the OpenID Connect provider --------------------------------------------------


def _problem(request: Request, session: Session, text: str, status_code: int) -> Response:
    page = render(request, "signin/problem.html", status_code, session=session, problem=text)
    return _with_cookie(request, page, session)


async def _start(request: Request, session: Session, back: str) -> Response:
    """Send the browser to the provider, remembering in the session what must come back."""
    provider: oidc.OidcClient = request.app.state.oidc
    try:
        url, pending = await provider.start(str(request.url_for("signed_in_at_provider")), back)
    except oidc.ProviderDown:
        return _problem(
            request,
            session,
            N_("Inloggningstjänsten svarar inte just nu. Försök igen om en stund."),
            503,
        )
    session.pending = pending
    return _with_cookie(request, RedirectResponse(url, status_code=303), session)


@router.get("/logga-in/start")
async def start_sign_in(request: Request, nasta: str | None = None) -> Response:
    if request.app.state.oidc is None:
        return RedirectResponse("/logga-in", status_code=303)
    return await _start(request, _anonymous(request), safe_next(nasta))


@router.get(oidc.CALLBACK_PATH, name="signed_in_at_provider")
async def provider_callback(
    request: Request,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
) -> Response:
    """Where the provider sends the browser back: the code swapped for the ID token, the
    person's memberships asked of the identity service."""
    provider: oidc.OidcClient | None = request.app.state.oidc
    session = live_session(request)
    if provider is None:
        return RedirectResponse("/logga-in", status_code=303)
    if session is None or session.pending is None:
        return _problem(
            request,
            _anonymous(request),
            N_(
                "Inloggningen kunde inte avslutas: den började inte i den här webbläsaren, "
                "eller tog för lång tid. Börja om."
            ),
            400,
        )
    pending = session.pending
    if not state or state != pending.state:
        session.pending = None
        return _problem(request, session, N_("Inloggningen kunde inte avslutas. Börja om."), 400)
    session.pending = None
    if error or not code:
        log.info("sign-in: the provider answered %s", (error or "no code")[:40])
        return _problem(
            request, session, N_("Inloggningen avbröts hos inloggningstjänsten. Börja om."), 400
        )
    try:
        who = await provider.finish(pending, code)
    except oidc.ProviderDown:
        return _problem(
            request,
            session,
            N_("Inloggningstjänsten svarar inte just nu. Försök igen om en stund."),
            503,
        )
    except oidc.SignInFailed as exc:
        log.warning("sign-in refused: %s", exc.reason)
        return _problem(request, session, N_("Inloggningen kunde inte bekräftas. Börja om."), 401)
    identity: tokens.Identity = request.app.state.identity
    session.id_token = who.id_token
    try:
        person = await identity.person(who.sub, who.name)
    except ApiError as exc:  # a sub the identity service cannot take (422)
        log.warning("sign-in: the identity service refused the provider's sub: %s", exc.code)
        return _problem(request, session, N_("Inloggningen kunde inte bekräftas. Börja om."), 401)
    except tokens.NoMembership:
        end_session(request, session)
        outside = new_session(request)
        outside.no_access = who.name or who.sub
        page = render(request, "signin/no_access.html", 403, session=outside)
        return _with_cookie(request, page, outside)
    return await _signed_in(request, session, person, pending.back)


def _choice_url(back: str) -> str:
    return "/val" + (f"?nasta={back}" if back != "/" else "")


async def _choose(
    request: Request, session: Session, membership: Membership, back: str
) -> Response:
    if membership.unit and membership.unit not in session.unit_names:
        session.unit_names = await _unit_names(request, session)
    session.membership = membership
    try:
        await _renew(request, session)
    except tokens.NoMembership:
        end_session(request, session)
        return RedirectResponse("/logga-in?avslutad=1", status_code=303)
    return RedirectResponse(back, status_code=303)


async def _renew(request: Request, session: Session) -> None:
    await tokens.renew(request.app.state, session)


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
    try:
        await _renew(request, probe)
        known = await request.app.state.api.get("orders", "/units", probe.token)
    except (ServiceDown, ApiError, tokens.NoMembership):
        known = []  # the units by their ids, then
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
    saved = await _store(request).saved_choice(person.sub)
    chosen = session.membership or saved
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
        saved=chosen is not None and saved == chosen,
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
    await _store(request).keep_choice(person.sub, membership if values.get("save") else None)
    return await _choose(request, session, membership, back)


@router.post("/logga-ut")
async def sign_out(request: Request) -> Response:
    session = live_session(request)
    if session is None:
        return RedirectResponse("/logga-in?utloggad=1", status_code=303)
    await checked_form(request, session)
    end_session(request, session)
    response = RedirectResponse("/logga-in?utloggad=1", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
