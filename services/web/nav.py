"""The menu of each role: the manual's words, in the order the day's work goes."""

from __future__ import annotations

from starlette.requests import Request

from services.common.auth import Role
from services.web.i18n import gettext_noop as N_

MENUS: dict[Role, tuple[tuple[str, str], ...]] = {
    Role.provider: (
        ("/", N_("Startsida")),
        ("/bestallningar", N_("Ej bekräftade beställningar")),
        ("/bestallningar/bekraftade", N_("Bekräftade")),
        ("/brukare", N_("Sök brukare")),
    ),
    Role.caseworker: (
        ("/", N_("Startsida")),
        ("/brukare", N_("Sök brukare")),
        ("/brukare/ny", N_("Ny brukare")),
        ("/bestallningar/ny", N_("Ny beställning")),
        ("/rapporter/ej-verkstallda", N_("Ej verkställda beslut")),
    ),
    Role.coordinator: (
        ("/", N_("Startsida")),
        ("/brukare", N_("Sök brukare")),
    ),
    Role.fee_admin: (
        ("/", N_("Startsida")),
        ("/brukare", N_("Sök brukare")),
        ("/avgifter/taxor", N_("Taxor")),
        ("/avgifter/franvaro", N_("Frånvaro")),
        ("/avgifter/franvaro/att-hantera", N_("Frånvaro att hantera")),
        ("/avgifter/korningar", N_("Faktureringskörningar")),
        ("/avgifter/fakturor", N_("Fakturor")),
    ),
    Role.admin: (
        ("/", N_("Startsida")),
        ("/admin/enheter", N_("Enheter")),
        ("/brukare", N_("Sök brukare")),
        ("/admin/logg", N_("Granskningslogg")),
        ("/avgifter/korningar", N_("Faktureringskörningar")),
    ),
    Role.unit_admin: (("/behorigheter", N_("Behörigheter")),),
}

ROLE_NAMES: dict[Role, str] = {
    Role.provider: N_("Utförare"),
    Role.caseworker: N_("Biståndshandläggare"),
    Role.coordinator: N_("Boendesamordnare"),
    Role.fee_admin: N_("Avgiftshandläggare"),
    Role.admin: N_("Systemförvaltare"),
    Role.unit_admin: N_("Behörighetsadministratör"),
}


def menu(role: Role) -> tuple[tuple[str, str], ...]:
    return MENUS.get(role, ())


def role_label(role: Role | str) -> str:
    return ROLE_NAMES.get(Role(role), str(role))


def is_current(request: Request, href: str) -> bool:
    """Whether a menu entry is the page shown (the longest entry that starts the path)."""
    path = request.url.path
    if href == "/":
        return path == "/"
    entries = [h for _, items in MENUS.items() for h, _ in items] + ["/meddelanden"]
    matches = [h for h in entries if h != "/" and (path == h or path.startswith(h + "/"))]
    return bool(matches) and max(matches, key=len) == href
