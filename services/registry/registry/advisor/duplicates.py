"""Uniqueness at the door (seed 000 唯一性、不可替代性): a proposed lab's research directions
against every other lab of its sub-field — operating, under construction or proposed — with
the advisor's own measure (Dice of character bigrams) and threshold, and the shared phrases."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from registry.advisor.similarity import bigrams_of, clean, shared_phrases_of
from registry.platforms.machine import STATE_LABELS
from registry.platforms.models import Platform
from registry.policy.service import current as current_policy
from registry.reference import LAB_KINDS, PLATFORM_KINDS

COMPARED_STATES = ("proposed", "under_construction", "operating", "under_rectification")


async def duplicates_of(session: AsyncSession, p: Platform) -> dict[str, Any]:
    """Labs of the same sub-field whose directions duplicate ``p``'s, most similar first."""
    threshold = float((await current_policy(session))["merge_similarity_threshold"])
    result: dict[str, Any] = {"threshold": threshold, "matches": []}
    if p.kind not in LAB_KINDS:
        return result
    others = await session.execute(
        select(Platform).where(
            Platform.id != p.id,
            Platform.kind.in_(LAB_KINDS),
            Platform.field == p.field,
            Platform.sub_field == p.sub_field,
            Platform.state.in_(COMPARED_STATES),
        )
    )
    mine = clean(p.research_directions)
    grams = bigrams_of(mine)
    matches = []
    for other in others.scalars():
        theirs = clean(other.research_directions)
        their_grams = bigrams_of(theirs)
        if not grams or not their_grams:
            continue
        score = 2 * len(grams & their_grams) / (len(grams) + len(their_grams))
        if score >= threshold:
            matches.append(
                {
                    "platform_id": str(other.id),
                    "code": other.code,
                    "name": other.name,
                    "kind": other.kind,
                    "kind_zh": PLATFORM_KINDS[other.kind],
                    "state": other.state,
                    "state_zh": STATE_LABELS[other.state],
                    "research_directions": list(other.research_directions),
                    "score": round(score, 3),
                    "matching_phrases": shared_phrases_of(mine, theirs),
                }
            )
    result["matches"] = sorted(matches, key=lambda m: (-m["score"], m["code"]))
    return result
