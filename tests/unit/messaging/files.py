"""Small files of each kind, for the tests of attachments."""

from __future__ import annotations

import io
import zipfile


def zipped(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


DOCX = zipped({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
ODT = zipped({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"})
XLSX = zipped({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"})
ODS = zipped({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet"})
PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00"
