"""Files at the HTTP edge (services/messaging/uploads.py): the cap and the download name."""

from __future__ import annotations

import pytest

from services.common.errors import PayloadTooLarge
from services.messaging.uploads import capped, content_disposition


async def chunks(*parts: bytes):
    for part in parts:
        yield part


async def test_a_stream_within_the_cap_passes_whole():
    assert [c async for c in capped(chunks(b"abc", b"def"), 6)] == [b"abc", b"def"]


async def test_a_stream_over_the_cap_stops_at_the_chunk_that_crosses_it():
    seen = []
    with pytest.raises(PayloadTooLarge):
        async for chunk in capped(chunks(b"abc", b"def", b"never read"), 5):
            seen.append(chunk)
    assert seen == [b"abc"]


def test_a_download_keeps_its_swedish_name_and_a_plain_one_for_old_browsers():
    header = content_disposition('Genomförandeplan "Åsa".pdf')
    assert header.startswith('attachment; filename="Genomforandeplan Asa.pdf"')
    assert "filename*=UTF-8''Genomf%C3%B6randeplan%20%22%C3%85sa%22.pdf" in header
