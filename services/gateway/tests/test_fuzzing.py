"""Schemathesis fuzzes the combined OpenAPI document through the gateway, services behind it.

A bounded, deterministic run (a few examples per operation, fixed seed): no answer may be a
server error, and every answer must match the schema the document declares for it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

pytestmark = pytest.mark.asyncio

EXAMPLES_PER_OPERATION = 5


def fuzz(document: dict[str, Any], base_url: str, headers: dict[str, str]) -> tuple[list[str], list[str]]:
    schema = schemathesis.openapi.from_dict(document)
    calls: list[str] = []
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        check = _checker(operation, base_url, headers, calls)
        try:
            check()
        except (
            Exception,
            BaseExceptionGroup,
        ) as exc:  # a failure hypothesis shrank and re-raised: keep going, report all
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
    return calls, failures


def _checker(operation: Any, base_url: str, headers: dict[str, str], calls: list[str]) -> Any:
    @hypothesis.settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(case=operation.as_strategy())
    def check(case: Any) -> None:
        response = case.call(base_url=base_url, headers=headers, timeout=10)
        calls.append(f"{operation.label} {response.status_code}")
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

    return check


async def test_fuzzing_the_combined_document_finds_no_server_error_and_no_schema_mismatch(
    platform: dict[str, Any], gw_auth: Any
) -> None:
    gw = platform["gateway"]
    document = (await gw.client.get("/openapi.json")).json()
    assert "x-unavailable-services" not in document
    assert any(p.startswith("/api/registry/") for p in document["paths"])
    headers = gw_auth("administrator", "department_staff", unit_id="u-1", units=["u-1"])
    calls, failures = await asyncio.to_thread(fuzz, document, gw.base_url, headers)
    assert failures == [], "\n\n".join(failures)
    operations = {c.rsplit(" ", 1)[0] for c in calls}
    assert len(operations) >= 40 and len(calls) > 150
    assert any(c.endswith((" 200", " 201")) for c in calls)  # the fuzzer got past authorisation too
