"""The web UI's shell without a stack: sessions, cookies, CSRF, headers, unavailable
services and the Swedish formats. The services are answered by a stand-in transport."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from services.common.settings import Settings
from services.web.i18n import day, money, personnummer
from services.web.main import build
from services.web.pages import safe_next

TEMPLATES = Path(__file__).resolve().parents[3] / "services" / "web" / "templates"
Answer = Callable[[httpx.Request], httpx.Response]


def services_answering(answer: Answer, calls: list[str]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.method} {request.url.path}")
        return answer(request)

    return httpx.MockTransport(handle)


def ordinary(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/units":
        return httpx.Response(200, json=[{"id": "solbacken", "name": "Solbackens äldreboende"}])
    if request.url.path == "/messages/unread-count":
        return httpx.Response(200, json={"unread": 2})
    return httpx.Response(200, json=[])


def down(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("refused", request=request)


@pytest.fixture
def calls() -> list[str]:
    return []


async def browser_for(
    env: str, answer: Answer, calls: list[str]
) -> AsyncIterator[httpx.AsyncClient]:
    app = build(Settings(env=env), transport=services_answering(answer, calls))
    async with app.router.lifespan_context(app):
        # https: the session cookie is Secure outside development
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="https://web"
        ) as client:
            yield client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


async def signed_in(client: httpx.AsyncClient, user: str = "cecilia") -> httpx.Response:
    page = await client.get("/logga-in")
    answer = await client.post("/logga-in", data={"csrf": csrf_of(page.text), "user": user})
    assert answer.status_code == 303 and answer.headers["location"] == "/val"
    choice = await client.get("/val")
    return await client.post(
        "/val", data={"csrf": csrf_of(choice.text), "role": "caseworker", "next": "/"}
    )


@pytest.mark.parametrize(("env", "secure"), [("test", True), ("development", False)])
async def test_the_session_cookie_is_a_bare_id_httponly_lax_and_secure_outside_development(
    env: str, secure: bool, calls: list[str]
) -> None:
    async for client in browser_for(env, ordinary, calls):
        page = await client.get("/logga-in")
        cookie = page.headers["set-cookie"]
        name, _, rest = cookie.partition("=")
        value = rest.split(";")[0]
        assert name == "lifecare_session"
        assert re.fullmatch(r"[A-Za-z0-9_-]{40,}", value), "the cookie is not a bare random id"
        flags = {part.strip().lower() for part in cookie.split(";")[1:]}
        assert "httponly" in flags
        assert "samesite=lax" in flags
        assert ("secure" in flags) is secure


async def test_signing_in_gives_a_new_session_id(calls: list[str]) -> None:
    async for client in browser_for("test", ordinary, calls):
        await client.get("/logga-in")
        before = client.cookies["lifecare_session"]
        await signed_in(client)
        assert client.cookies["lifecare_session"] != before
        start = await client.get("/")
        assert start.status_code == 200
        assert "Startsida" in start.text


async def test_a_form_without_the_csrf_token_is_refused_and_does_nothing(
    calls: list[str],
) -> None:
    async for client in browser_for("test", ordinary, calls):
        await signed_in(client)
        calls.clear()
        answer = await client.post("/logga-ut", data={"csrf": "forged"})
        assert answer.status_code == 403
        assert "Formuläret har gått ut" in answer.text
        assert (await client.get("/")).status_code == 200  # still signed in


async def test_pages_have_a_policy_without_inline_script_and_are_not_cached(
    calls: list[str],
) -> None:
    async for client in browser_for("test", ordinary, calls):
        await signed_in(client)
        start = await client.get("/")
        policy = start.headers["content-security-policy"]
        script = next(p for p in policy.split(";") if p.strip().startswith("script-src"))
        assert script.split() == ["script-src", "'self'"]
        assert "frame-ancestors 'none'" in policy
        assert start.headers["cache-control"] == "no-store"
        assert start.headers["x-frame-options"] == "DENY"


def test_no_template_has_inline_script_style_or_handlers() -> None:
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\sstyle=|\son[a-z]+=", re.I)
    found = [
        f"{path.relative_to(TEMPLATES)}: {match.group(0).strip()}"
        for path in TEMPLATES.rglob("*.html")
        for match in inline.finditer(path.read_text())
    ]
    assert not found, "the CSP would block these:\n" + "\n".join(found)


async def test_a_service_that_does_not_answer_gives_a_page_that_says_which(
    calls: list[str],
) -> None:
    async for client in browser_for("test", down, calls):
        page = await client.get("/logga-in")
        await client.post("/logga-in", data={"csrf": csrf_of(page.text), "user": "cecilia"})
        choice = await client.get("/val")
        await client.post(
            "/val", data={"csrf": csrf_of(choice.text), "role": "caseworker", "next": "/"}
        )
        start = await client.get("/")
        assert start.status_code == 503
        assert "Tjänsten för beställningar och brukare svarar inte just nu" in start.text
        assert "Traceback" not in start.text


async def test_signed_out_pages_go_to_sign_in_and_back(calls: list[str]) -> None:
    async for client in browser_for("test", ordinary, calls):
        answer = await client.get("/?sida=2")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/logga-in?nasta=/%3Fsida%3D2"
        page = await client.get(answer.headers["location"])
        assert 'name="next" value="/?sida=2"' in page.text


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("/brukare/1", "/brukare/1"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        (None, "/"),
    ],
)
def test_only_local_pages_are_gone_on_to_after_sign_in(given: str | None, kept: str) -> None:
    assert safe_next(given) == kept


def test_swedish_formats() -> None:
    assert money(Decimal("1234.5")) == "1\u00a0234,50\u00a0kr"
    assert money("3333.33") == "3\u00a0333,33\u00a0kr"
    assert money("-12.00") == "-12,00\u00a0kr"
    assert personnummer("189001019802") == "18900101-9802"
    assert day("2026-03-01") == "2026-03-01"
    assert day("2026-03-01T23:30:00Z") == "2026-03-02 00:30"  # Stockholm, winter time


async def test_production_offers_no_demo_people_and_refuses_them(calls: list[str]) -> None:
    settings = Settings(
        env="production",
        jwt_secret="a-real-secret-of-production-length-0123456789",
        payload_key="cHJvZHVjdGlvbi1wYXlsb2FkLWtleS0zMi1ieXRlcyE=",
        # production signs in through a provider only (it refuses to start without one)
        oidc_issuer="https://idp.example",
        oidc_client_secret="client-secret",
        oidc_redirect_url="https://web/logga-in/klar",
    )
    app = build(settings, transport=services_answering(ordinary, calls))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="https://web"
        ) as client:
            page = await client.get("/logga-in")
            assert "Demoanvändare" not in page.text
            assert "anna" not in page.text
            session = client.cookies["lifecare_session"]
            store = app.state.sessions
            refused = await client.post(
                "/logga-in", data={"csrf": (await store.load(session)).csrf, "user": "anna"}
            )
            assert refused.status_code == 422
            assert (await client.get("/")).status_code == 303  # still not signed in


def test_the_web_uis_access_log_keeps_no_query_string() -> None:
    import logging

    from services.common.app import PathOnlyAccessLog

    build(Settings(env="test"))
    assert any(
        isinstance(f, PathOnlyAccessLog) for f in logging.getLogger("uvicorn.access").filters
    )
