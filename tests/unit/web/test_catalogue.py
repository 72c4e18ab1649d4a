"""All the web UI's texts are in one message catalogue, and a language is added without
touching a template."""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po
from starlette.requests import Request

from services.web.main import templates
from services.web.people import DEMO_PEOPLE

ROOT = Path(__file__).resolve().parents[3]
WEB = ROOT / "services" / "web"
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def extracted() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(WEB), METHODS, OPTIONS, keywords=KEYWORDS
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_the_committed_catalogue_holds_every_text_of_the_templates_and_code() -> None:
    with (WEB / "locale" / "messages.pot").open("rb") as pot:
        committed = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(pot) if m.id}
    now = extracted()
    assert now - committed == set(), "new texts: run `make catalogue`"
    assert committed - now == set(), "texts no longer used: run `make catalogue`"


def test_a_new_language_is_a_catalogue_file_and_no_template_changes(tmp_path: Path) -> None:
    catalog = Catalog(locale="en")
    catalog.add("Logga in i Lifecare", "Sign in to Lifecare")
    catalog.add("Användare", "User")
    catalog.add("Logga in", "Sign in")
    folder = tmp_path / "en" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / "messages.po").open("wb") as po:
        write_po(po, catalog)

    english = templates("en", locale_dir=tmp_path)
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/logga-in",
        "headers": [],
        "query_string": b"",
    }
    page = english.get_template("signin/signin.html").render(
        request=Request(scope),
        session=None,
        form=None,
        people=DEMO_PEOPLE[:1],
        next="/",
        role_names={},
        flash=[],
    )
    assert "Sign in to Lifecare" in page
    assert ">User<" in page.replace("\n", "").replace("  ", "")
    assert "Logga in i Lifecare" not in page
