"""What every page of the web UI shares: the signed-in session, rendering, forms with
their CSRF token and one-time id, and the services' refusals shown at their fields."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData
from starlette.types import Scope

from services.common.auth import Role
from services.web import tokens
from services.web.client import Api, ApiError, ServiceDown
from services.web.i18n import gettext_noop as N_
from services.web.session import Session, SessionStore
from services.web.session_middleware import end_session, live_session

TOKEN_RENEW_BEFORE = 120  # seconds


class SignInNeeded(Exception):
    """No live session: sign in, then come back to `back`."""

    def __init__(self, back: str, *, ended: bool = False) -> None:
        self.back = back
        self.ended = ended  # the person's access ended while signed in


class NotAllowed(Exception):
    """The signed-in role may not open this page."""


class FormExpired(Exception):
    """A form posted without this session's CSRF token (an old tab, or a forgery)."""


# --- the services' refusals, as a person reads them -----------------------------------------

# what a field's validation kind means, as FastAPI's 422 names it
FIELD_KINDS: dict[str, str] = {
    "missing": N_("Fyll i fältet."),
    "string_too_short": N_("Fyll i fältet."),
    "string_too_long": N_("Texten är för lång."),
    "date_from_datetime_parsing": N_("Skriv datumet som ÅÅÅÅ-MM-DD."),
    "date_parsing": N_("Skriv datumet som ÅÅÅÅ-MM-DD."),
    "date_type": N_("Skriv datumet som ÅÅÅÅ-MM-DD."),
    "enum": N_("Välj ett av alternativen."),
    "literal_error": N_("Välj ett av alternativen."),
    "decimal_parsing": N_("Skriv ett belopp, till exempel 1234,50."),
    "decimal_max_places": N_("Skriv ett belopp med högst två decimaler."),
    "greater_than_equal": N_("Värdet är för litet."),
    "less_than_equal": N_("Värdet är för stort."),
}
INVALID_VALUE = N_("Värdet är inte giltigt.")

# the codes every page may meet; each area adds its own (field or None, text)
COMMON_CODES: dict[str, tuple[str | None, str]] = {
    "customer_not_found": (None, N_("Brukaren finns inte, eller hör inte till din enhet.")),
    "order_not_found": (None, N_("Beställningen finns inte, eller hör inte till din enhet.")),
    "execution_not_found": (None, N_("Verkställigheten finns inte.")),
    "token_expired": (None, N_("Din inloggning har gått ut. Logga in igen.")),
    "forbidden": (None, N_("Du har inte behörighet till det här.")),
    "database_unavailable": (None, N_("Tjänsten kan inte nå sin databas just nu.")),
}


@dataclass
class Form:
    """A form's values as the person typed them, and what is wrong with them."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # field -> text
    problems: list[str] = field(default_factory=list)  # not about one field

    def __getitem__(self, name: str) -> str:
        return self.values.get(name, "")

    @property
    def invalid(self) -> bool:
        return bool(self.errors or self.problems)

    def add(self, name: str | None, text: str) -> None:
        if name and name not in self.errors:
            self.errors[name] = text
        elif not name:
            self.problems.append(text)

    def refused(
        self,
        error: ApiError,
        codes: Mapping[str, tuple[str | None, str]] = {},
        fields: Mapping[str, str] = {},
    ) -> Form:
        """Put a service's refusal at its field: `codes` says where a domain error's code
        belongs and what it says, `fields` maps the API's field names to the form's."""
        known = {**COMMON_CODES, **codes}
        if error.code in known:
            name, text = known[error.code]
            self.add(name, text)
        elif error.fields:
            for problem in error.fields:
                top = problem.field.split(".")[0]
                self.add(fields.get(top, top) or None, FIELD_KINDS.get(problem.kind, INVALID_VALUE))
        else:
            self.add(None, N_("Det gick inte att spara: {message}").format(message=error.message))
        return self


# --- the page a route renders ---------------------------------------------------------------


class Page:
    """One request of a signed-in person: their session, the services, rendering."""

    def __init__(self, request: Request, session: Session) -> None:
        self.request = request
        self.session = session
        self.api: Api = request.app.state.api
        self._unread_task: asyncio.Task[int | None] | None = None
        self.templates: Jinja2Templates = request.app.state.templates

    @property
    def token(self) -> str:
        return self.session.token

    @property
    def role(self) -> Role:
        assert self.session.membership is not None
        return self.session.membership.role

    @property
    def unit(self) -> str | None:
        assert self.session.membership is not None
        return self.session.membership.unit

    def require(self, *roles: Role) -> None:
        if self.role not in roles:
            raise NotAllowed()

    async def render(self, template: str, status_code: int = 200, **context: Any) -> Response:
        unread = await self.unread()
        return render(
            self.request, template, status_code, session=self.session, unread=unread, **context
        )

    def unread(self) -> asyncio.Task[int | None]:
        """The unread count for the header, asked once per page: a page that calls
        `page.unread()` before its own calls has it fetched beside them, not after."""
        if self._unread_task is None:
            self._unread_task = asyncio.ensure_future(self._fetch_unread())
        return self._unread_task

    async def _fetch_unread(self) -> int | None:
        try:
            answer = await self.api.get("messaging", "/messages/unread-count", self.token)
        except (ApiError, ServiceDown):
            return None
        return int(answer.get("unread", 0))

    def redirect(self, url: str, flash: str | None = None) -> Response:
        if flash:
            self.session.flash.append(flash)
        return RedirectResponse(url, status_code=303)

    async def form(self) -> FormData:
        """The posted form, refused unless it carries this session's CSRF token."""
        return await checked_form(self.request, self.session)

    @asynccontextmanager
    async def once(self, form: FormData) -> AsyncIterator[Once]:
        """Run a form's effect once: a second post of the same form id (a double click)
        waits for the first and is sent where the first was."""
        form_id = str(form.get("form_id", ""))
        store: SessionStore = self.request.app.state.sessions
        async with store.once(self.session, form_id) as claim:
            once = Once(self, form_id, earlier=claim.earlier)
            yield once
            claim.url = once.url  # taken effect: a second post goes there too


@dataclass
class Once:
    page: Page
    form_id: str
    earlier: str | None = None
    url: str = ""

    def done(self, url: str, flash: str | None = None) -> Response:
        """The effect happened: remember where it leads, and go there."""
        self.url = url
        return self.page.redirect(url, flash)

    def again(self) -> Response:
        """The same form was sent before: show its result."""
        assert self.earlier
        return RedirectResponse(self.earlier, status_code=303)


async def checked_form(request: Request, session: Session) -> FormData:
    form = await request.form()
    sent = str(form.get("csrf", ""))
    if not sent or not secrets.compare_digest(sent, session.csrf):
        raise FormExpired()
    return form


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A whole page from its template."""
    templates: Jinja2Templates = request.app.state.templates
    session: Session | None = context.get("session")
    flash = list(session.flash) if session else []
    if session:
        session.flash.clear()
    return templates.TemplateResponse(
        request, template, {"flash": flash, **context}, status_code=status_code
    )


def back_to(request: Request) -> str:
    """Where to come back to after signing in: this page, or for a post the page it came
    from."""
    if request.method == "GET":
        path = request.url.path
        return path + (f"?{request.url.query}" if request.url.query else "")
    referer = request.headers.get("referer", "")
    origin = f"{request.url.scheme}://{request.url.netloc}"
    return referer[len(origin) :] if referer.startswith(origin + "/") else "/"


def safe_next(value: str | None) -> str:
    """A local path to go on to; anything else (another site) becomes the start page."""
    if value and value.startswith("/") and not value.startswith(("//", "/\\")):
        return value
    return "/"


def sign_in_url(back: str) -> str:
    return "/logga-in" + (f"?nasta={quote(back, safe='/')}" if back != "/" else "")


async def signed_in(request: Request) -> Page:
    """The page of a signed-in person who has chosen role and unit; their token is renewed
    while the session lives (a membership ended meanwhile signs them out, saying so)."""
    session = live_session(request)
    if session is None or not session.ready:
        raise SignInNeeded(back_to(request))
    if session.token_expires - time.time() < TOKEN_RENEW_BEFORE:
        try:
            await tokens.renew(request.app.state, session)
        except tokens.NoMembership:
            end_session(request, session)
            raise SignInNeeded("/", ended=True) from None
    return Page(request, session)


Web = Annotated[Page, Depends(signed_in)]


async def too_large_page(scope: Scope, limit: int) -> Response:
    """The page for a form whose files together pass what the web UI takes (a 413): nothing
    was sent, and the person is told so and led back to the form."""
    request = Request(scope)
    return render(
        request,
        "errors/too_large.html",
        413,
        session=live_session(request),
        limit=f"{limit // 2**20} MB" if limit >= 2**20 else f"{limit // 2**10} kB",
        back=back_to(request),
    )
