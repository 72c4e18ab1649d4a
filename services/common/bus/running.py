"""Keeping the relay and the consumers running through an outage of the broker or database."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("services.common.bus")  # the bus's one logger, in every module


async def keep_running(name: str, connected: Callable[[], Awaitable[None]]) -> None:
    """Run `connected` until cancelled; when the broker or database goes away, wait and retry."""
    while True:
        try:
            await connected()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("%s paused: %s", name, type(exc).__name__)
            await asyncio.sleep(1.0)
