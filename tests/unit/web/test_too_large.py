"""A form over what the web UI takes gets a page in Swedish that says so, not the services'
JSON 413, and nothing of it reaches a service."""

from __future__ import annotations

import httpx
import pytest

from services.common.settings import Settings
from services.web.main import build
from tests.integration.serving import free_socket, serving

UPLOAD_LIMIT = 64 * 1024
FORM_LIMIT = 16 * 1024


@pytest.fixture
async def web() -> httpx.AsyncClient:
    calls: list[str] = []

    def services(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.method} {request.url.path}")
        return httpx.Response(200, json=[])

    settings = Settings(env="test", web_max_upload_bytes=UPLOAD_LIMIT, max_body_bytes=FORM_LIMIT)
    app = build(settings, transport=httpx.MockTransport(services))
    app.state.service_calls = calls
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="https://web"
        ) as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


def refused_page(answer: httpx.Response) -> None:
    assert answer.status_code == 413
    assert answer.headers["content-type"].startswith("text/html")
    assert "<h1>Det du skickade är för stort</h1>" in answer.text
    assert "och inget har skickats." in answer.text
    # the page leads back to the form it came from
    assert 'href="/meddelanden/nytt"' in answer.text


async def test_files_over_the_total_get_a_page_that_leads_back_to_the_form(web) -> None:
    files = [
        ("filer", (f"plan-{n}.pdf", b"%PDF-1.7 " + b"x" * 40_000, "application/pdf"))
        for n in range(2)
    ]
    answer = await web.post(
        "/meddelanden/nytt",
        data={"csrf": "x", "subject": "Planer"},
        files=files,
        headers={"referer": "https://web/meddelanden/nytt"},
    )
    refused_page(answer)
    assert "Det är större än 64 kB tillsammans" in answer.text
    assert web.app.state.service_calls == []


async def test_a_form_over_the_limit_without_files_gets_the_same_page(web) -> None:
    answer = await web.post(
        "/meddelanden/nytt",
        data={"csrf": "x", "body": "å" * FORM_LIMIT},
        headers={"referer": "https://web/meddelanden/nytt"},
    )
    refused_page(answer)
    assert web.app.state.service_calls == []


async def test_a_browser_over_a_real_socket_gets_the_page_not_a_reset(web) -> None:
    """A browser shows an answer once it has sent its body: the page is given after the
    rest of the body is read, so the client is not cut off mid-upload."""
    async with serving(web.app, free_socket()) as url:
        async with httpx.AsyncClient(base_url=url) as client:
            answer = await client.post(
                "/meddelanden/nytt",
                files=[("filer", ("plan.pdf", b"x" * (3 * UPLOAD_LIMIT), "application/pdf"))],
                headers={"referer": f"{url}/meddelanden/nytt"},
            )
    refused_page(answer)
