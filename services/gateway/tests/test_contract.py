"""The combined API document as SPA teams and partners build on it: every operation named,
every answer typed, every list one page shape.

``UNTYPED`` and ``NOT_A_PAGE`` list the operations that do not meet the contract yet; they may
only shrink: a new operation that answers an untyped object or a bare list fails here.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest

pytestmark = pytest.mark.asyncio

OPERATION_ID = re.compile(r"^(gateway|registry|projects|evaluation)_[a-z][a-z0-9_]*$")
METHODS = {"get", "put", "post", "patch", "delete"}
JSON = "application/json"


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def success_schemas(document: dict[str, Any], operation: dict[str, Any]) -> list[dict[str, Any] | None]:
    found: list[dict[str, Any] | None] = []
    for status, response in operation.get("responses", {}).items():
        if status.startswith("2") and JSON in response.get("content", {}):
            schema = response["content"][JSON].get("schema")
            found.append(resolve(document, schema) if schema else None)
    return found


def is_untyped(schema: dict[str, Any] | None) -> bool:
    """No schema, ``{}``, or an object without declared properties (``dict[str, Any]``)."""
    if not schema:
        return True
    if "anyOf" in schema or "oneOf" in schema or "allOf" in schema:
        return False
    return schema.get("type") == "object" and not schema.get("properties")


def is_bare_list(schema: dict[str, Any] | None) -> bool:
    return bool(schema) and schema.get("type") == "array"  # type: ignore[union-attr]


def contract_report(document: dict[str, Any]) -> dict[str, set[str]]:
    untyped, bare = set(), set()
    for _, _, operation in operations(document):
        for schema in success_schemas(document, operation):
            if is_untyped(schema):
                untyped.add(operation["operationId"])
            elif is_bare_list(schema):
                bare.add(operation["operationId"])
    return {"untyped": untyped, "bare_list": bare}


async def test_operation_ids_are_readable_and_unique_across_the_platform(platform: dict[str, Any]) -> None:
    document = (await platform["gateway"].client.get("/openapi.json")).json()
    assert "x-unavailable-services" not in document
    ids = [operation.get("operationId", "") for _, _, operation in operations(document)]
    assert len(ids) > 150
    assert [i for i in ids if not OPERATION_ID.match(i) or "__" in i] == []
    assert [i for i, n in Counter(ids).items() if n > 1] == []
    for name in ("registry", "projects", "evaluation"):
        own = (await platform[name].client.get("/openapi.json")).json()
        own_ids = {operation["operationId"] for _, _, operation in operations(own)}
        assert own_ids <= set(ids), f"{name}'s own document names operations as the combined one does"


async def test_no_operation_joins_the_untyped_or_bare_list_answers(platform: dict[str, Any]) -> None:
    document = (await platform["gateway"].client.get("/openapi.json")).json()
    report = contract_report(document)
    print(f"contract: {len(report['untyped'])} untyped 2xx answers, {len(report['bare_list'])} bare lists")
    untyped, bare = sorted(report["untyped"] - UNTYPED), sorted(report["bare_list"] - NOT_A_PAGE)
    assert not untyped, f"untyped answers: {untyped}"
    assert not bare, f"bare lists instead of a page: {bare}"


UNTYPED: frozenset[str] = frozenset(
    {
        "evaluation_assessments_finalize",
        "evaluation_assessments_get",
        "evaluation_assessments_start_clusters",
        "evaluation_assessments_start_labs",
        "evaluation_catalogue",
        "evaluation_code_lists",
        "evaluation_dead_letters",
        "evaluation_experts_declare",
        "evaluation_experts_reconfirmation_sweep",
        "evaluation_gaps",
        "evaluation_replay",
        "evaluation_republish",
        "evaluation_reviews_applicant_result",
        "evaluation_reviews_configure",
        "evaluation_reviews_finalize",
        "evaluation_reviews_panel_decision",
        "evaluation_reviews_patch_item",
        "evaluation_reviews_progress",
        "evaluation_reviews_ranking",
        "evaluation_reviews_recuse",
        "evaluation_reviews_score_sheets",
        "evaluation_rounds_request_avoidance",
        "gateway_catalogue",
        "gateway_dead_letters",
        "gateway_gaps",
        "gateway_jwks",
        "gateway_replay",
        "gateway_republish",
        "projects_catalogue",
        "projects_catalogue_codes",
        "projects_catalogue_list_programmes",
        "projects_catalogue_update_programme",
        "projects_change_policy",
        "projects_dead_letters",
        "projects_funded_annual_report",
        "projects_funded_edit_task_book",
        "projects_funded_export_projects",
        "projects_funded_get_task_book",
        "projects_funded_indicators",
        "projects_funded_review_annual_report",
        "projects_funded_statistics",
        "projects_gaps",
        "projects_list_policy",
        "projects_modes_verify",
        "projects_platforms_projects",
        "projects_policy_history",
        "projects_replay",
        "projects_republish",
        "registry_advisor_advice",
        "registry_campaigns_campaign",
        "registry_campaigns_labs",
        "registry_campaigns_start",
        "registry_catalogue",
        "registry_change_policy",
        "registry_clusters_lifecycle",
        "registry_clusters_list_assessments",
        "registry_clusters_list_guidelines",
        "registry_clusters_revise_guideline",
        "registry_clusters_suggest_guideline",
        "registry_codes",
        "registry_dead_letters",
        "registry_gaps",
        "registry_imports_people",
        "registry_imports_people_template",
        "registry_imports_platform_template",
        "registry_imports_platforms",
        "registry_integrity_check",
        "registry_list_policy",
        "registry_organisations_history",
        "registry_people_export",
        "registry_platforms_add_member",
        "registry_platforms_director_appointments",
        "registry_platforms_duplicates",
        "registry_platforms_export",
        "registry_platforms_history",
        "registry_platforms_lifecycle",
        "registry_platforms_list_members",
        "registry_policy_history",
        "registry_replay",
        "registry_republish",
        "registry_targets_change",
        "registry_targets_history",
        "registry_targets_snapshots",
        "registry_targets_targets",
    }
)
NOT_A_PAGE: frozenset[str] = frozenset(
    {
        "evaluation_assignment_short_items",
        "evaluation_experts_import",
        "evaluation_forms_list",
        "evaluation_reviews_dispersion_queue",
        "evaluation_reviews_my",
        "evaluation_rounds_assignments",
        "evaluation_rounds_list_runs",
        "evaluation_rounds_my_assignments",
        "gateway_accounts_duties",
        "gateway_opendata_collections",
        "gateway_webhooks_my_subscriptions",
        "registry_platforms_list_outputs",
    }
)
