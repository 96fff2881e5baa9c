"""The event contracts as data: the gateway's AsyncAPI 3.0 document, generated from the
services' event registries, valid for the AsyncAPI parser and matching docs/events.md."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.asyncio

ROOT = Path(__file__).resolve().parents[3]
CLIENT = ROOT / "tests" / "client"
EVENTS_MD = ROOT / "docs" / "events.md"
TYPE = re.compile(r"`((?:registry|projects|evaluation|gateway)\.[a-z_]+\.[a-z_]+)`")


def documented(event_type: str, text: str) -> bool:
    """Named in full, or by its aggregate's pattern row (``registry.platform.<action>``), or as
    ``registry.organisation.registered` / `.updated`` on one line."""
    service, aggregate, verb = event_type.split(".")
    stem = f"{service}.{aggregate}."
    if f"`{event_type}`" in text or f"`{stem}<" in text:
        return True
    return any(stem in line and f"`.{verb}`" in line for line in text.splitlines())


async def test_every_event_type_is_described_with_its_producer_consumers_and_schema(
    platform: dict[str, Any],
) -> None:
    document = (await platform["gateway"].client.get("/asyncapi.json")).json()
    assert document["asyncapi"] == "3.0.0"
    assert "x-unavailable-services" not in document
    unpublished = document.get("x-unpublished")
    assert unpublished is None, f"consumed, published by nobody: {unpublished}"
    produced = {
        name: {t.name for t in service.runtime.definition.produces}
        for name, service in platform.items()
        if name != "gateway"
    }
    channels = document["channels"]
    for service, types in produced.items():
        assert types, service
        for event_type in types:
            assert channels[event_type]["x-producer"] == service
            assert channels[event_type]["address"] == event_type
            message = document["components"]["messages"][event_type]
            data = message["payload"]["allOf"][1]["properties"]["data"]
            assert data["$ref"].split("/")[-1] in document["components"]["schemas"]
    # who reads what: registry's people reach projects and evaluation; evaluation's verdicts reach
    # projects and registry; the gateway fans every partner-visible event out to webhooks
    assert {"projects", "evaluation"} <= set(channels["registry.person.registered"]["x-consumers"])
    assert "registry" in channels["evaluation.lab_assessment.finalized"]["x-consumers"]
    assert "projects" in channels["evaluation.project_evaluation.finalized"]["x-consumers"]
    receive = [o for o in document["operations"].values() if o["action"] == "receive"]
    send = [o for o in document["operations"].values() if o["action"] == "send"]
    assert len(send) == sum(len(t) for t in produced.values()) and len(receive) > 10

    text = EVENTS_MD.read_text()
    assert [t for t in sorted(channels) if not documented(t, text)] == [], "docs/events.md lacks them"
    assert sorted(set(TYPE.findall(text)) - set(channels)) == [], "docs/events.md names unknown types"

    target = CLIENT / "generated"
    target.mkdir(exist_ok=True)
    (target / "asyncapi.json").write_text(json.dumps(document, ensure_ascii=False))
    process = await asyncio.create_subprocess_exec(
        "node",
        "validate-asyncapi.mjs",
        "generated/asyncapi.json",
        cwd=CLIENT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode == 0, output.decode()
    assert f"valid: {len(channels)} channels" in output.decode()
