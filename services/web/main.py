"""The web UI: server-rendered pages in Swedish over the platform's services (a
backend-for-frontend that calls them with the signed-in person's token)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common import tracing
from services.common.app import PathOnlyAccessLog, RequestIdMiddleware
from services.common.db import create_pool
from services.common.edge import BodyGuard, SecurityHeaders
from services.common.payload_codec import read_key
from services.common.settings import Settings, get_settings
from services.web import (
    access,
    admin,
    caseworker,
    fees,
    home,
    labels,
    messages,
    oidc,
    provider,
    signin,
    tokens,
)
from services.web.client import Api, ApiError, ServiceDown
from services.web.i18n import LOCALE_DIR, day, money, personnummer, translations
from services.web.nav import is_current, menu, role_label
from services.web.pages import (
    FormExpired,
    NotAllowed,
    SignInNeeded,
    live_session,
    render,
    sign_in_url,
    too_large_page,
)
from services.web.people import DEMO_PEOPLE, People
from services.web.repository import PostgresSessions
from services.web.session import Backend, MemorySessions, Sealer, SessionStore
from services.web.session_middleware import SessionMiddleware

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
# no inline script or style; forms post to this origin only
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
SERVICE_NAMES = {
    "orders": "beställningar och brukare",
    "absence": "frånvaro",
    "billing": "avgifter och fakturor",
    "messaging": "meddelanden",
    "identity": "inloggning och behörigheter",
    "sessions": "inloggning",
}


def templates(
    language: str = "sv", strict: bool = False, locale_dir: Path = LOCALE_DIR
) -> Jinja2Templates:
    """The page templates, with the catalogue of `language` and the Swedish formats."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined if strict else jinja2.Undefined,
    )
    env.install_gettext_translations(translations(language, locale_dir), newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(money=money, day=day, personnummer=personnummer)
    env.globals.update(
        service_names=SERVICE_NAMES, menu=menu, role_label=role_label, is_current=is_current
    )
    env.globals.update(labels.ALL)
    return Jinja2Templates(env=env)


def build(
    settings: Settings | None = None, transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    """The web UI's app."""
    settings = settings or get_settings()
    oidc.check_configured(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.sessions = await session_store(settings)
        app.state.api = Api(settings, transport)
        app.state.identity = tokens.Identity(settings, app.state.api)
        if settings.oidc_issuer is not None:
            app.state.oidc = oidc.OidcClient(settings, transport)
        try:
            yield
        finally:
            await app.state.api.close()
            if app.state.oidc is not None:
                await app.state.oidc.close()
            await app.state.sessions.close()

    tracing.setup(settings, "web")
    app = FastAPI(
        title="Lifecare",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        # one server span per request, the instrumentation's (as the services' apps)
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.settings = settings
    app.state.templates = templates()
    # signing in: through the OpenID Connect provider when one is configured (production
    # always), the platform's tokens from the identity service; without one, development
    # and tests sign in as a demo person by name, with development tokens made here
    app.state.oidc = None
    app.state.identity = None
    demo = settings.env != "production" and settings.oidc_issuer is None
    app.state.people = People(DEMO_PEOPLE if demo else ())
    app.add_middleware(
        BodyGuard,
        max_body=settings.max_body_bytes,
        max_upload_body=settings.web_max_upload_bytes,
        too_large=too_large_page,
    )
    # outside BodyGuard: its page for a body too large shows the session's header
    app.add_middleware(SessionMiddleware, unavailable=sessions_unavailable)
    app.add_middleware(PageHeaders)
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(SecurityHeaders)
    # a search (`?q=`) may be a personnummer: the access log keeps only the path
    access_log = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, PathOnlyAccessLog) for f in access_log.filters):
        access_log.addFilter(PathOnlyAccessLog())
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (signin, home, provider, messages, caseworker, fees, admin, access):
        app.include_router(module.router)

    @app.get("/health", include_in_schema=False)
    async def health() -> JSONResponse:
        return JSONResponse({"status": "ok", "service": "web"})

    @app.exception_handler(SignInNeeded)
    async def sign_in_first(_request: Request, exc: SignInNeeded) -> Response:
        if exc.ended:
            return RedirectResponse("/logga-in?avslutad=1", status_code=303)
        return RedirectResponse(sign_in_url(exc.back), status_code=303)

    @app.exception_handler(ServiceDown)
    async def service_down(request: Request, exc: ServiceDown) -> Response:
        return render(
            request,
            "errors/unavailable.html",
            503,
            session=live_session(request),
            service=exc.service,
        )

    @app.exception_handler(ApiError)
    async def refused(request: Request, exc: ApiError) -> Response:
        if exc.status == 401:
            return RedirectResponse(sign_in_url(request.url.path), status_code=303)
        template = {404: "errors/not_found.html", 403: "errors/forbidden.html"}.get(
            exc.status, "errors/refused.html"
        )
        return render(request, template, exc.status, session=live_session(request), error=exc)

    @app.exception_handler(NotAllowed)
    async def not_allowed(request: Request, _exc: NotAllowed) -> Response:
        return render(request, "errors/forbidden.html", 403, session=live_session(request))

    @app.exception_handler(FormExpired)
    async def form_expired(request: Request, _exc: FormExpired) -> Response:
        return render(request, "errors/form_expired.html", 403, session=live_session(request))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        template = "errors/not_found.html" if exc.status_code == 404 else "errors/refused.html"
        return render(request, template, exc.status_code, session=live_session(request))

    @app.exception_handler(Exception)
    async def failed(request: Request, exc: Exception) -> Response:
        log.exception("page failed: %s %s", request.method, request.url.path)
        return render(request, "errors/failed.html", 500, session=live_session(request))

    tracing.instrument_app(app)  # the person's click starts the trace
    return app


async def session_store(settings: Settings) -> SessionStore:
    """The sessions as the settings say: in the web UI's schema (every replica shares them)
    or in this process's memory (unit tests)."""
    sealer = Sealer(
        read_key(settings.payload_key.get_secret_value()),
        [read_key(k.get_secret_value()) for k in settings.payload_old_keys],
    )
    idle = settings.web_session_idle
    backend: Backend
    if settings.web_sessions == "memory":
        backend = MemorySessions()
    else:
        pool = await create_pool(
            settings.database_dsn, min_size=settings.db_pool_min, max_size=settings.db_pool_max
        )
        backend = PostgresSessions(pool, idle)
    return SessionStore(backend, sealer, idle.total_seconds())


async def sessions_unavailable(scope: Scope) -> Response:
    """The page for a request whose session cannot be read: the database is out of reach."""
    return render(Request(scope), "errors/unavailable.html", 503, session=None, service="sessions")


class PageHeaders:
    """The web UI's Content-Security-Policy (no inline script), and no caching of pages
    that show a person's data."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope.get("path", "").startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                headers.append((b"content-security-policy", POLICY.encode()))
                if not static:
                    headers.append((b"cache-control", b"no-store"))
            await send(message)

        await self.app(scope, receive, with_headers)
