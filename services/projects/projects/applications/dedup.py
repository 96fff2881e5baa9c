"""查重: near-duplicate detection of Chinese proposal texts by MinHash over character shingles + LSH.

Character 3-grams of the normalised text (punctuation and spaces removed) are the shingles: they
need no word segmentation and survive small edits. A 128-value MinHash signature estimates the
Jaccard similarity; 32 bands of 4 values (LSH) find candidates whose similarity is likely above
~0.42, so every pair at or above the usual thresholds (0.6–0.8) is found with high probability;
candidates are then confirmed with the exact Jaccard of their shingle sets, and the similar
passages (sentence pairs) are shown as evidence. Hashes are stable across processes (BLAKE2b),
so the band keys can be stored in the database and queried by index.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

SHINGLE = 3
PERMUTATIONS = 128
BANDS = 32
ROWS = PERMUTATIONS // BANDS
_MASK64 = (1 << 64) - 1
_rng = random.Random(20261123)  # noqa: S311  fixed masks, not secrets
_MASKS = [_rng.getrandbits(64) for _ in range(PERMUTATIONS)]
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
_SENTENCE = re.compile(r"[。！？；!?;\n]+")


def normalise(text: str) -> str:
    return _NOISE.sub("", text).lower()


def shingles(text: str) -> set[str]:
    t = normalise(text)
    if len(t) < SHINGLE:
        return {t} if t else set()
    return {t[i : i + SHINGLE] for i in range(len(t) - SHINGLE + 1)}


def _h64(s: str) -> int:
    return int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "big")


def signature(shingle_set: Iterable[str]) -> list[int]:
    """MinHash signature: per permutation the least of hash XOR a fixed random mask."""
    hashes = [_h64(s) for s in shingle_set]
    if not hashes:
        return [_MASK64] * PERMUTATIONS
    return [min(h ^ m for h in hashes) for m in _MASKS]


def band_keys(sig: list[int]) -> list[int]:
    """One signed 64-bit key per band (fits a PostgreSQL bigint)."""
    keys = []
    for b in range(BANDS):
        chunk = ",".join(str(v) for v in sig[b * ROWS : (b + 1) * ROWS])
        keys.append(
            int.from_bytes(
                hashlib.blake2b(f"{b}:{chunk}".encode(), digest_size=8).digest(), "big", signed=True
            )
        )
    return keys


def jaccard(a: set[str], b: set[str]) -> float:
    if not a and not b:
        return 0.0
    return len(a & b) / len(a | b)


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if len(normalise(s)) >= 8]


@dataclass(frozen=True)
class Passage:
    text: str
    similar_text: str
    similarity: float


def similar_passages(text: str, other: str, *, minimum: float = 0.5, limit: int = 5) -> list[Passage]:
    """Sentence pairs of the two texts whose shingle overlap is at least ``minimum``."""
    others = [(s, shingles(s)) for s in sentences(other)]
    found: list[Passage] = []
    for sentence in sentences(text):
        mine = shingles(sentence)
        best: tuple[float, str] = (0.0, "")
        for candidate, theirs in others:
            score = jaccard(mine, theirs)
            if score > best[0]:
                best = (score, candidate)
        if best[0] >= minimum:
            found.append(Passage(sentence, best[1], round(best[0], 3)))
    found.sort(key=lambda p: -p.similarity)
    return found[:limit]


class MinHashIndex:
    """An in-memory LSH index (used by the benchmark at corpus scale; the service uses its table)."""

    def __init__(self) -> None:
        self.buckets: list[dict[int, list[int]]] = [defaultdict(list) for _ in range(BANDS)]
        self.shingles: list[set[str]] = []

    def add(self, text: str) -> int:
        s = shingles(text)
        doc = len(self.shingles)
        self.shingles.append(s)
        for band, key in enumerate(band_keys(signature(s))):
            self.buckets[band][key].append(doc)
        return doc

    def query(self, text: str, threshold: float) -> list[tuple[int, float]]:
        s = shingles(text)
        candidates: set[int] = set()
        for band, key in enumerate(band_keys(signature(s))):
            candidates.update(self.buckets[band].get(key, ()))
        scored = [(doc, jaccard(s, self.shingles[doc])) for doc in candidates]
        return sorted([(d, j) for d, j in scored if j >= threshold], key=lambda x: -x[1])
