"""Texts and formats. The visible texts are written in Swedish in the templates and the
code (`_("…")`, gettext); `pybabel extract` gathers them into locale/messages.pot, and a
language is added as locale/<language>/LC_MESSAGES/messages.po without touching a
template. Dates are ÅÅÅÅ-MM-DD, money "1 234,50 kr", personnummer ÅÅÅÅMMDD-NNNN."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

from services.common.dates import STOCKHOLM

LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT_LANGUAGE = "sv"
NBSP = "\u00a0"


def translations(
    language: str = DEFAULT_LANGUAGE, locale_dir: Path = LOCALE_DIR
) -> NullTranslations:
    """The catalogue of a language; Swedish, the language the texts are written in, is the
    catalogue's source and needs none."""
    po = locale_dir / language / "LC_MESSAGES" / "messages.po"
    if language == DEFAULT_LANGUAGE or not po.exists():
        return NullTranslations()
    mo = po.with_suffix(".mo")
    if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
        with po.open("rb") as source:
            catalog = read_po(source, locale=language)
        with mo.open("wb") as target:
            write_mo(target, catalog)
    with mo.open("rb") as compiled:
        return Translations(compiled, domain="messages")


def gettext_noop(text: str) -> str:
    """Marks a text for the catalogue where it is defined; it is translated where shown."""
    return text


def money(value: object) -> str:
    """A decimal amount of kronor as "1 234,50 kr" (non-breaking spaces)."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return format_decimal(amount, format="#,##0.00", locale="sv_SE") + f"{NBSP}kr"


def day(value: object) -> str:
    """A date as ÅÅÅÅ-MM-DD; a timestamp as ÅÅÅÅ-MM-DD TT:MM in Stockholm time."""
    if value in (None, ""):
        return ""
    if isinstance(value, datetime):
        return value.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if "T" in text:
        try:
            return day(datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            return text
    return text[:10]


def personnummer(value: object) -> str:
    """A 12-digit personnummer as ÅÅÅÅMMDD-NNNN."""
    text = str(value or "")
    return f"{text[:8]}-{text[8:]}" if len(text) == 12 and text.isdigit() else text
