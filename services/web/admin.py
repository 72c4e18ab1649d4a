"""Pages of the web UI: admin (built in its own step)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
