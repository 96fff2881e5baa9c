"""查重: near-duplicate detection of Chinese proposal texts by MinHash over character shingles + LSH.

Character 3-grams of the normalised text (punctuation and spaces removed) are the shingles: they
need no word segmentation and survive small edits. Each shingle is packed from its three code
points into one 64-bit integer and hashed to 32 bits with numpy (stable across processes, no
per-shingle Python hashing); ``datasketch.MinHash`` (``affine32`` scheme, 128 permutations) turns
the set into a signature that estimates Jaccard similarity. The signature is cut into 32 bands of
4 values (LSH): two texts become candidates when any band is equal, which happens with
probability 1 - (1 - s⁴)³² — 0.9988 at s = 0.6, > 0.9999 at s = 0.8 — so every pair at the
usual thresholds (0.6–0.8, data on the call) is found; candidates are then confirmed with the
exact Jaccard of their shingle sets, and the similar passages (sentence pairs) are shown as
evidence. Band keys are stable 64-bit integers, so they are stored in PostgreSQL (one array per
application, GIN-indexed) and looked up by index; ``datasketch.MinHashLSH`` with the same bands
serves the in-memory index of the benchmark.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
from datasketch import MinHash, MinHashLSH

SHINGLE = 3
PERMUTATIONS = 128
BANDS = 32
ROWS = PERMUTATIONS // BANDS
SEED = 20261123
SCHEME = "affine32"
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
_SENTENCE = re.compile(r"[。！？；!?;\n]+")
# One template MinHash: its permutations are drawn once, not for every text.
_TEMPLATE = MinHash(num_perm=PERMUTATIONS, seed=SEED, scheme=SCHEME)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def normalise(text: str) -> str:
    return _NOISE.sub("", text).lower()


def shingles(text: str) -> set[str]:
    """The 3-gram strings of a (short) text: used for the passages shown as evidence."""
    t = normalise(text)
    if len(t) < SHINGLE:
        return {t} if t else set()
    return {t[i : i + SHINGLE] for i in range(len(t) - SHINGLE + 1)}


def shingle_hashes(text: str) -> np.ndarray:
    """The sorted, distinct 32-bit hashes of a text's 3-grams (numpy, one pass, no Python loop)."""
    t = normalise(text)
    codes = np.frombuffer(t.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if codes.size == 0:
        return np.empty(0, dtype=np.uint32)
    if codes.size < SHINGLE:
        packed = np.array([int(sum(int(c) << (21 * i) for i, c in enumerate(codes)))], dtype=np.uint64)
    else:
        packed = (codes[:-2] << np.uint64(42)) | (codes[1:-1] << np.uint64(21)) | codes[2:]
    # splitmix64 finaliser, then the high 32 bits
    with np.errstate(over="ignore"):
        z = packed + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
        z = z ^ (z >> np.uint64(31))
    return np.unique((z >> np.uint64(32)).astype(np.uint32))


def _identity(value: Any) -> Any:
    return value


def minhash(hashes: np.ndarray) -> MinHash:
    m = MinHash(
        num_perm=PERMUTATIONS,
        seed=SEED,
        scheme=SCHEME,
        hashfunc=_identity,
        permutations=_TEMPLATE.permutations,
    )
    if hashes.size:
        m.update_batch(hashes)
    return m


def band_keys(m: MinHash) -> list[int]:
    """One signed 64-bit key per band (a PostgreSQL bigint), the band's number mixed in."""
    values = np.asarray(m.hashvalues, dtype=np.uint32)
    return [
        int.from_bytes(
            hashlib.blake2b(
                values[b * ROWS : (b + 1) * ROWS].tobytes(), digest_size=8, person=b"band%d" % b
            ).digest(),
            "big",
            signed=True,
        )
        for b in range(BANDS)
    ]


def signature(text: str) -> list[int]:
    """The band keys of a text: what the index stores and what a check looks up (none if empty)."""
    hashes = shingle_hashes(text)
    return band_keys(minhash(hashes)) if hashes.size else []


def jaccard_hashes(a: np.ndarray, b: np.ndarray) -> float:
    if a.size == 0 and b.size == 0:
        return 0.0
    common = np.intersect1d(a, b, assume_unique=True).size
    return common / (a.size + b.size - common)


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


class MemoryIndex:
    """``datasketch.MinHashLSH`` with the service's bands, plus the shingle hashes to confirm.

    The benchmark's in-memory index (the service keeps the same band keys in PostgreSQL)."""

    def __init__(self) -> None:
        self.lsh = MinHashLSH(num_perm=PERMUTATIONS, params=(BANDS, ROWS))
        self.hashes: list[np.ndarray] = []

    def add(self, text: str) -> int:
        h = shingle_hashes(text)
        doc = len(self.hashes)
        self.hashes.append(h)
        self.lsh.insert(doc, minhash(h), check_duplication=False)
        return doc

    def query(self, text: str, threshold: float) -> list[tuple[int, float]]:
        h = shingle_hashes(text)
        scored = [(doc, jaccard_hashes(h, self.hashes[doc])) for doc in self.lsh.query(minhash(h))]
        return sorted([(d, j) for d, j in scored if j >= threshold], key=lambda x: -x[1])
