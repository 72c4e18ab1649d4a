"""Browser tests: the whole stack as the integration tests start it (a Temporal dev server,
a fresh database, RabbitMQ, the worker), every service over real HTTP, the web UI in front,
and Debian's Chromium driven by Playwright, never a downloaded browser."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from playwright.async_api import Browser, BrowserContext, Page, async_playwright
from pydantic import SecretStr

from services.common import registry
from services.common.settings import Settings
from tests.integration import conftest as stack
from tests.integration.serving import free_socket, serving, url_of
from tests.web.data import Staff

HERE = Path(__file__).parent
DEV_IDP = HERE.parent.parent / "deploy" / "dev-idp"
IDP_CLIENT_SECRET = "web-tests-client-secret"
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = HERE / "screenshots"  # every test's screenshots (not kept in git)
DOCS_SHOTS = HERE.parent.parent / "docs" / "screenshots"
CHROMIUM = os.environ.get("LIFECARE_CHROMIUM", "/usr/bin/chromium")
# without these Chromium dials out to Google's services, which this machine refuses
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--lang=sv-SE",  # the browser's own language: date fields read ÅÅÅÅ-MM-DD, as in Sweden
]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# the integration tests' stack, one instance of each for this directory's tests
absence_app = stack.absence_app
absence_settings = stack.absence_settings
as_ = stack.as_
billing_app = stack.billing_app
bridge = stack.bridge
database = stack.database
identity_app = stack.identity_app
identity_url = stack.identity_url
messaging_app = stack.messaging_app
no_personal_data_in_logs = stack.no_personal_data_in_logs
orders_app = stack.orders_app
pool = stack.pool
service_sockets = stack.service_sockets
integration_settings = stack.settings
temporal = stack.temporal
worker = stack.worker


@pytest.fixture(scope="session")
def settings(integration_settings: Settings) -> Settings:
    """The integration tests' settings with small pools: this directory's stack lives
    beside theirs for the rest of the session, and a browser's load needs few connections."""
    return integration_settings.model_copy(update={"db_pool_max": 3})


@pytest.fixture(scope="session")
def idp_people(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The development provider's people file (its one-click buttons and their names);
    anyone else signs in there by user name."""
    path = tmp_path_factory.mktemp("dev-idp") / "people.json"
    path.write_text(json.dumps([{"sub": "anna", "name": "Anna Andersson", "title": "Utförare"}]))
    return path


@pytest.fixture(scope="session")
def idp(service_sockets, idp_people: Path) -> Iterator[str]:
    """The development OpenID provider (deploy/dev-idp: the certified `oidc-provider` on
    Node) on a free port, with the web UI as its one client; its issuer URL."""
    if not (DEV_IDP / "node_modules" / "oidc-provider").exists():
        pytest.fail(f"{DEV_IDP}/node_modules is missing: `make install` runs npm ci there")
    probe = free_socket()
    port = probe.getsockname()[1]
    probe.close()
    issuer = f"http://127.0.0.1:{port}"
    web = url_of(service_sockets["web"])
    log = (idp_people.parent / "dev-idp.log").open("w")
    process = subprocess.Popen(
        [
            "node",
            str(DEV_IDP / "server.js"),
            *("--port", str(port), "--people", str(idp_people)),
            *("--client-id", "lifecare-web", "--client-secret", IDP_CLIENT_SECRET),
            *("--redirect-uri", f"{web}/logga-in/klar"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "NODE_ENV": "test"},
    )
    try:
        for _ in range(200):
            if process.poll() is not None:
                pytest.fail(f"the development provider exited: see {log.name}")
            try:
                if httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=1).is_success:
                    break
            except httpx.HTTPError:
                pass
            try:  # waits on the process, so a provider that stops is seen at once
                process.wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                pass
        else:
            pytest.fail("the development provider did not answer within 10 s")
        yield issuer
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture(scope="session")
def web_app(settings: Settings, service_sockets, idp: str) -> FastAPI:
    """The web UI, calling the services at the URLs the settings name, signing people in
    through the development provider."""
    return registry.build_app(
        "web",
        settings.model_copy(
            update={
                "orders_url": url_of(service_sockets["orders"]),
                "oidc_issuer": idp,
                "oidc_client_secret": SecretStr(IDP_CLIENT_SECRET),
                "oidc_redirect_url": f"{url_of(service_sockets['web'])}/logga-in/klar",
            }
        ),
    )


@pytest.fixture(scope="session")
async def served(
    web_app: FastAPI,
    service_sockets,
    identity_url: str,
    orders_app,
    absence_app,
    billing_app,
    messaging_app,
) -> AsyncIterator[str]:
    """The identity service and the four others over HTTP, and the web UI in front of them;
    the web UI's URL."""
    apps = {
        "orders": orders_app,
        "absence": absence_app,
        "billing": billing_app,
        "messaging": messaging_app,
    }
    async with AsyncExitStack() as stack:
        for name, app in apps.items():
            await stack.enter_async_context(serving(app, service_sockets[name]))
        await stack.enter_async_context(web_app.router.lifespan_context(web_app))
        yield await stack.enter_async_context(serving(web_app, service_sockets["web"]))


@pytest.fixture
async def staff(web_app: FastAPI, served: str, as_) -> AsyncIterator[Staff]:
    """People of this test only, at units of this test only (so no other test's orders
    show up in their boxes)."""
    staff = Staff(web_app, as_, served)
    yield staff
    await staff.settled()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make install` installs Debian's chromium")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        await chromium.close()


@pytest.fixture
async def context(browser: Browser, served: str) -> AsyncIterator[BrowserContext]:
    ctx = await browser.new_context(
        base_url=served, locale="sv-SE", viewport={"width": 1280, "height": 900}
    )
    ctx.set_default_timeout(15_000)
    yield ctx
    await ctx.close()


@pytest.fixture
async def page(context: BrowserContext) -> Page:
    return await context.new_page()


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: `make install` runs npm ci in tests/web")
    return AXE.read_text()


class Axe:
    """axe-core's WCAG 2.1 A and AA rules, run on the page as it is now."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.pages_checked = 0

    async def check(self, page: Page, what: str = "") -> None:
        # evaluated by the DevTools protocol, which the page's CSP does not govern
        if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
            await page.evaluate(self.source)
        result = await page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
        )
        self.pages_checked += 1
        problems = [
            f"{v['id']} ({v['impact']}): {v['help']} at "
            + ", ".join(json.dumps(n["target"]) for n in v["nodes"][:3])
            for v in result["violations"]
        ]
        assert not problems, f"axe on {what or page.url}:\n" + "\n".join(problems)


@pytest.fixture
def axe(axe_source: str) -> Axe:
    return Axe(axe_source)


@pytest.fixture
def shoot(request: pytest.FixtureRequest):
    """Save a screenshot under tests/web/screenshots/<test>/; `docs=True` also keeps it in
    docs/screenshots/ for the README."""
    folder = SHOTS / re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)

    async def take(page: Page, name: str, *, docs: bool = False, full_page: bool = True) -> Path:
        path = folder / f"{name}.png"
        await page.screenshot(path=str(path), full_page=full_page)
        if docs and os.environ.get("LIFECARE_DOCS_SCREENSHOTS") == "1":
            DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, DOCS_SHOTS / path.name)
        return path

    return take
