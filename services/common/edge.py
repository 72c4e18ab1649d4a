"""The HTTP edge every service shares: a size limit on each body, checked before it is read;
JSON read strictly (no NaN, no infinity, no lone surrogate, no deep nesting); 422 answers
that quote a short excerpt of the bad value, never all of it; security headers on answers.

Plain ASGI, like the request id: Starlette's `BaseHTTPMiddleware` costs a task per request.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# a JSON body nested deeper than this is refused; no body of the API needs more than 4
MAX_JSON_DEPTH = 32
# how much of a refused value a 422 quotes
EXCERPT_CHARS = 80
_SURROGATE = re.compile("[\ud800-\udfff]")
# quoted back escaped: controls, bidirectional overrides and isolates, lone surrogates
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_JSON_SUBTYPE = re.compile(r"^application/([\w.+-]+\+)?json\s*(;|$)", re.IGNORECASE)

# HTML answers (print views, the web UI) load nothing from elsewhere and may not be framed;
# Swagger UI at /docs and ReDoc at /redoc take their script and style from jsDelivr
HTML_POLICY = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
DOCS_POLICY = (
    "default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "font-src https://fonts.gstatic.com; connect-src 'self'; worker-src blob:; "
    "base-uri 'none'; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")


class BodyRefused(ValueError):
    """A JSON body that cannot be read as the API reads JSON."""


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise BodyRefused(f"the number {excerpt(text)} is too large")
    return number


def _no_constant(name: str) -> Any:
    raise BodyRefused(f"{name} is not a JSON number")


def read_json(body: bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """The value of a JSON body, refused (BodyRefused) when it is not UTF-8, holds NaN,
    Infinity, a number too large for a float, a lone surrogate or nesting past `max_depth`."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyRefused("the body is not UTF-8") from None
    try:
        value = json.loads(text, parse_float=_finite, parse_constant=_no_constant)
    except BodyRefused:
        raise
    except RecursionError:
        raise BodyRefused(f"the body is nested deeper than {max_depth} levels") from None
    except ValueError as exc:  # JSONDecodeError, or an integer of more than 4300 digits
        raise BodyRefused(f"the body is not JSON: {str(exc)[:100]}") from None
    _check_tree(value, max_depth)
    return value


def _check_tree(value: Any, max_depth: int) -> None:
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise BodyRefused("a text holds a lone surrogate (U+D800-U+DFFF)")
        elif isinstance(item, dict | list):
            if depth >= max_depth:
                raise BodyRefused(f"the body is nested deeper than {max_depth} levels")
            children: Iterable[Any] = (
                [*item.keys(), *item.values()] if isinstance(item, dict) else item
            )
            stack.extend((child, depth + 1) for child in children)


def excerpt(value: Any, limit: int = EXCERPT_CHARS) -> str:
    """A short, JSON-safe rendering of any value: at most `limit` characters and an ellipsis."""
    if isinstance(value, bytes | bytearray):
        text = bytes(value[: limit * 4]).decode("utf-8", errors="replace")
    elif isinstance(value, str):
        text = value[: limit + 1]
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, default=str)[: limit + 1]
        except (ValueError, RecursionError):
            text = repr(value)[: limit + 1]
    text = _UNPRINTABLE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)
    return text if len(text) <= limit else text[:limit] + "…"


def _safe_input(value: Any) -> Any:
    """The input of one validation error as a 422 may quote it: a short scalar stays what it
    is, anything else becomes an excerpt."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and abs(value) < 10**15:
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    if isinstance(value, str) and len(value) <= EXCERPT_CHARS and not _UNPRINTABLE.search(value):
        return value
    return excerpt(value)


def safe_errors(errors: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pydantic's errors in FastAPI's 422 shape, each with an excerpt of its input only."""
    answer = []
    for error in list(errors)[:20]:
        item: dict[str, Any] = {
            "type": str(error.get("type", "value_error")),
            "loc": [
                part if isinstance(part, int) else excerpt(part, 40)
                for part in error.get("loc", ())
            ],
            "msg": excerpt(str(error.get("msg", "")), 300),
        }
        if "input" in error:
            item["input"] = _safe_input(error["input"])
        if isinstance(error.get("ctx"), dict):
            item["ctx"] = {
                str(k): v if isinstance(v, int | bool) else excerpt(str(v), 120)
                for k, v in error["ctx"].items()
            }
        answer.append(item)
    return answer


def refusal(msg: str, *, kind: str = "json_invalid") -> dict[str, Any]:
    """A 422 body in FastAPI's shape for a body refused before any route saw it."""
    return {"detail": [{"type": kind, "loc": ["body"], "msg": msg}]}


async def validation_failed(_request: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's 422, but one that can always be written (a NaN, a lone surrogate or bytes
    in an input made FastAPI's own handler fail) and that quotes a short excerpt only."""
    return JSONResponse({"detail": safe_errors(exc.errors())}, status_code=422)


async def _answer(send: Send, status: int, body: dict[str, Any]) -> None:
    content = json.dumps(body, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(content)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": content})


def too_large_body(limit: int) -> dict[str, Any]:
    return {
        "error": {
            "code": "payload_too_large",
            "message": f"the request body is larger than this route takes ({limit} bytes)",
        }
    }


# what an app answers instead of the JSON 413: given the request's scope and the limit
TooLarge = Callable[[Scope, int], Awaitable[Response]]
DRAIN_FACTOR = 4  # a page's 413 reads at most this many times the limit before answering


async def _drain(receive: Receive, most: int) -> None:
    """Read and drop what is left of a request's body, up to `most` bytes."""
    size = 0
    while size <= most:
        message = await receive()
        if message["type"] != "http.request":
            return
        size += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


class BodyGuard:
    """Refuses a body over its limit (413) from its Content-Length before reading it, or as
    soon as the bytes streamed pass it; reads a JSON body strictly and answers one that is
    not clean JSON with a 422 before any route sees it. Multipart bodies (uploads) have a
    limit of their own and stream through; every other body is read here, within its limit,
    and handed on whole."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body: int,
        max_upload_body: int,
        strict_json: bool = True,
        too_large: TooLarge | None = None,
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.max_upload_body = max_upload_body
        self.strict_json = strict_json
        self.too_large = too_large

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """The 413: the JSON refusal, or the page the app gives (the web UI's).

        A page is for a browser, which shows an answer only once it has sent its body: a
        connection closed on unread bytes reaches it as a reset, not as the page. So the rest
        of the body is read and thrown away first, up to `DRAIN_FACTOR` times the limit."""
        if self.too_large is None:
            await _answer(send, 413, too_large_body(limit))
            return
        await _drain(receive, DRAIN_FACTOR * limit)
        response = await self.too_large(scope, limit)
        await response(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        content_type = headers.get("content-type", "")
        multipart = content_type.lower().startswith("multipart/")
        limit = self.max_upload_body if multipart else self.max_body
        declared = headers.get("content-length", "")
        if declared.strip().isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send, limit)
            return
        if multipart:
            await self._stream(scope, receive, send, limit)
            return

        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client left
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(scope, receive, send, limit)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        # without a content type FastAPI reads a body as JSON: check one that looks like it,
        # and leave anything else (raw bytes to the upload route) to the route's own refusal
        looks_json = body.lstrip()[:1] in (b"{", b"[", b'"')
        if (
            self.strict_json
            and body
            and (_JSON_SUBTYPE.match(content_type) if content_type else looks_json)
        ):
            try:
                read_json(body)
            except BodyRefused as exc:
                await _answer(send, 422, refusal(str(exc)))
                return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _stream(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """Count the bytes as the route reads them; past the limit the route is told the
        client left, and the client gets the 413 instead of what the route answers."""
        size, over, started = 0, False, False

        async def counted() -> Message:
            nonlocal size, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > limit:
                    over = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if over:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, guarded_send)
        except Exception:
            if not over or started:
                raise
        if over and not started:
            await self._refuse(scope, receive, send, limit)


class SecurityHeaders:
    """`X-Content-Type-Options: nosniff` on every answer; on every HTML answer also a
    Content-Security-Policy with `frame-ancestors 'none'`, a referrer policy and
    `X-Frame-Options: DENY` (for browsers without CSP level 2)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope.get("path", "").startswith(DOCS_PATHS)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                if headers.get("content-type", "").lower().startswith("text/html"):
                    headers.setdefault(
                        "Content-Security-Policy", DOCS_POLICY if docs else HTML_POLICY
                    )
                    headers["Referrer-Policy"] = "no-referrer"
                    headers["X-Frame-Options"] = "DENY"
            await send(message)

        await self.app(scope, receive, with_headers)
