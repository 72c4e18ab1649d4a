"""Files at the HTTP edge: a multipart upload read with a cap, the headers of a download."""

from __future__ import annotations

import unicodedata
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from urllib.parse import quote

from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from services.common.errors import Invalid, UnsupportedMediaType
from services.messaging.domain import MAX_ATTACHMENT_BYTES, too_large

# room for the multipart boundaries and part headers around the file itself
MULTIPART_OVERHEAD = 64 * 1024
FIELD = "file"


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


async def capped(stream: AsyncIterator[bytes], limit: int) -> AsyncGenerator[bytes, None]:
    """Pass the chunks on until more than `limit` bytes came; then refuse with 413."""
    total = 0
    async for chunk in stream:
        total += len(chunk)
        if total > limit:
            raise too_large()
        yield chunk


async def read_upload(request: Request) -> Upload:
    """The one file of a multipart body, never reading more than the limit allows."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise UnsupportedMediaType(
            f"send the file as multipart/form-data in the field `{FIELD}`",
            code="multipart_expected",
        )
    limit = MAX_ATTACHMENT_BYTES + MULTIPART_OVERHEAD
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large()
    parser = MultiPartParser(
        request.headers,
        capped(request.stream(), limit),
        max_files=1,
        max_fields=10,
        max_part_size=16 * 1024,
    )
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise Invalid(
            f"the upload could not be read: {exc.message}", code="invalid_upload"
        ) from exc
    try:
        upload = form.get(FIELD)
        if not isinstance(upload, UploadFile):
            raise Invalid(f"send the file in the multipart field `{FIELD}`", code="missing_file")
        data = await upload.read(MAX_ATTACHMENT_BYTES + 1)
        if len(data) > MAX_ATTACHMENT_BYTES:
            raise too_large()
        return Upload(filename=upload.filename or "", data=data)
    finally:
        await form.close()


def content_disposition(filename: str) -> str:
    """`attachment` with the name for every browser: plain ASCII and the UTF-8 original."""
    letters = unicodedata.normalize("NFKD", filename)  # ö -> o and a combining mark
    plain = "".join(ch for ch in letters if 32 <= ord(ch) < 127 and ch not in '"\\') or "file"
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"


# the request body as /docs shows it: the route reads the stream itself, with its cap
OPENAPI_UPLOAD = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [FIELD],
                    "properties": {FIELD: {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}
