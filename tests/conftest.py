"""Shared test set-up: leave pytest without interpreter teardown (Temporal SDK issue 300)."""

from __future__ import annotations

import os
import sys

import pytest


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Exit with pytest's own status once everything is reported.

    The Temporal SDK's Rust core can abort the interpreter at exit ("PyGILState_Release",
    sdk-python issue 300) after every test passed. Leaving with os._exit after pytest has
    printed its summary keeps the real exit status, failures included, and skips that
    teardown. Set LIFECARE_PYTEST_NORMAL_EXIT=1 to turn this off.
    """
    if os.environ.get("LIFECARE_PYTEST_NORMAL_EXIT") == "1":
        return
    status = getattr(config, "_lifecare_exitstatus", None)
    if status is None:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(int(status))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config._lifecare_exitstatus = exitstatus  # type: ignore[attr-defined]
