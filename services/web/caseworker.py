"""Pages of the web UI: caseworker (built in its own step)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
