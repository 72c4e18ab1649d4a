"""Access to a unit (the unit_admin, "Behörighetsadministratör"): who has it, adding and
ending it."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
