"""Schemathesis fuzzes each service's OpenAPI with a valid token: no answer is a 5xx, and
none breaks the service's own schema.

The apps run on the session's loop (asyncpg pools made in it) and are served by uvicorn
there; schemathesis, which calls synchronously, runs as a subprocess against them. The
fuzzer gets a platform of its own (`fuzz_stack`), so its random writes reach no other test.

The budget keeps `make test` at about a minute for this file. For a deeper run by hand,
FUZZ_ARGS adds schemathesis options, e.g.
FUZZ_ARGS="--max-examples 100 --phases examples,coverage,fuzzing,stateful --mode all"
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

import pytest

from tests.integration.security.conftest import FuzzStack

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
CONFIG = Path(__file__).parent / "schemathesis.toml"
SEED = 20261125
# per service, the callers whose tokens reach the most of it, and the examples per
# operation each gets in the fuzzing phase; the coverage phase adds the schema's boundary
# values (config: schemathesis.toml). About a minute for all, on two cores.
FUZZ = [
    ("orders", "caseworker", 10),
    ("orders", "provider", 10),
    ("orders", "admin", 6),
    ("absence", "provider", 25),
    ("absence", "fee_admin", 15),
    ("billing", "fee_admin", 12),
    ("billing", "provider", 4),
    ("messaging", "provider", 12),
    ("messaging", "coordinator", 8),
    ("identity", "admin", 10),
    ("identity", "unit_admin", 10),
]
CHECKS = "not_a_server_error,response_schema_conformance"


@pytest.mark.parametrize(("service", "role", "examples"), FUZZ)
async def test_no_input_gets_a_server_error_or_an_answer_off_the_schema(
    fuzz_stack: FuzzStack, tmp_path: Path, service: str, role: str, examples: int
):
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(CONFIG),
        "run",
        f"{fuzz_stack.urls[service]}/openapi.json",
        "--header",
        f"Authorization: Bearer {fuzz_stack.token(role)}",
        "--checks",
        CHECKS,
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(examples),
        "--seed",
        str(SEED),
        "--generation-with-security-parameters",
        "false",
        "--generation-database",
        "none",
        "--request-timeout",
        "10",
        "--no-color",
        *os.environ.get("FUZZ_ARGS", "").split(),
    ]
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    report = output.decode(errors="replace")
    assert process.returncode == 0, report
    cases = re.search(r"Test cases:\s*(\d+) generated, (\d+) passed", report)
    assert cases and cases.group(1) == cases.group(2) != "0", report
    print(f"\n{service} as {role}: {cases.group(1)} cases, all passed")
