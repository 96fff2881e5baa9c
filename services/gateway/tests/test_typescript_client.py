"""A TypeScript client generated from the combined document type-checks against the main flows.

``openapi-typescript`` turns the gateway's ``/openapi.json`` into types; ``flows.ts`` signs in,
lists and pages platforms, submits an application and reads a score sheet through an
``openapi-fetch`` client typed by them; ``tsc --noEmit`` must accept it. A renamed field, a
route that moved or an answer that lost its type breaks this test, as it would break the SPAs.
The npm project is ``tests/client/``; its packages come from its ``package-lock.json`` through
``make dev``.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.asyncio

HERE = Path(__file__).resolve().parents[3] / "tests" / "client"
BIN = HERE / "node_modules" / ".bin"


async def run(*command: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *command, cwd=HERE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode(errors="replace")


@pytest.fixture(scope="module")
def npm_packages() -> None:
    if not (BIN / "openapi-typescript").exists() or shutil.which("node") is None:
        pytest.fail("the contract client's npm packages are missing: run `make dev`")


async def test_generated_typescript_client_type_checks_the_main_flows(
    npm_packages: None, platform: dict[str, Any]
) -> None:
    document = (await platform["gateway"].client.get("/openapi.json")).json()
    assert "x-unavailable-services" not in document
    generated = HERE / "generated"
    generated.mkdir(exist_ok=True)
    (generated / "openapi.json").write_text(json.dumps(document, ensure_ascii=False))
    code, output = await run(
        # fields with a default are optional in a request body and may be absent in an answer
        str(BIN / "openapi-typescript"),
        "generated/openapi.json",
        "-o",
        "generated/api.d.ts",
        "--default-non-nullable",
        "false",
    )
    assert code == 0, output
    code, output = await run(str(BIN / "tsc"), "--noEmit", "-p", "tsconfig.json")
    assert code == 0, output
    # and the check can fail: the same flows against a contract whose token field was renamed
    broken = (generated / "api.d.ts").read_text().replace("access_token", "token_of_access")
    (generated / "broken.d.ts").write_text(broken)
    code, output = await run(str(BIN / "tsc"), "--noEmit", "-p", "tsconfig.broken.json")
    assert code != 0 and "access_token" in output, output
