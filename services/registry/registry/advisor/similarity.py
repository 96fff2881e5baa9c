"""Chinese text similarity of research directions, explainable to officials.

Character bigrams need no dictionary and suit short technical phrases ("稀土永磁材料制备");
generic words every direction carries (研究, 技术, 应用 …) are removed first so they do not
make unrelated labs look alike. The score is the Dice coefficient of the two bigram sets; the
explanation lists the longest phrases both labs' directions share.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from difflib import SequenceMatcher

GENERIC = ("研究", "技术", "应用", "关键", "及其", "开发", "基础", "方法", "相关", "创新", "领域", "方向")
# Punctuation, spaces and the generic words all split a direction into chunks ("|").
_SEPARATORS = re.compile(r"[^\w\u4e00-\u9fff]+|" + "|".join(GENERIC))


def clean(directions: Sequence[str]) -> tuple[str, ...]:
    """Each direction with separators and generic words replaced by ``|``."""
    return tuple(_SEPARATORS.sub("|", d) for d in directions)


def bigrams(directions: Sequence[str]) -> frozenset[str]:
    return bigrams_of(clean(directions))


def bigrams_of(cleaned: Sequence[str]) -> frozenset[str]:
    grams: set[str] = set()
    for direction in cleaned:
        for chunk in direction.split("|"):
            grams.update(chunk[i : i + 2] for i in range(len(chunk) - 1))
    return frozenset(grams)


def shared_phrases(a: Sequence[str], b: Sequence[str], *, limit: int = 6) -> list[str]:
    """The longest runs of two or more characters found in a direction of each lab."""
    return shared_phrases_of(clean(a), clean(b), limit=limit)


def shared_phrases_of(a: Sequence[str], b: Sequence[str], *, limit: int = 6) -> list[str]:
    """``shared_phrases`` of directions already passed through ``clean``."""
    found: set[str] = set()
    for ca in a:
        for cb in b:
            matcher = SequenceMatcher(None, ca, cb, autojunk=False)
            for block in matcher.get_matching_blocks():
                for phrase in ca[block.a : block.a + block.size].split("|"):
                    if len(phrase) >= 2:
                        found.add(phrase)
    # Drop phrases contained in a longer one, longest first.
    ordered = sorted(found, key=lambda s: (-len(s), s))
    kept: list[str] = []
    for phrase in ordered:
        if not any(phrase in longer for longer in kept):
            kept.append(phrase)
    return kept[:limit]
