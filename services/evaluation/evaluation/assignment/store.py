"""Assignments written in bulk: PostgreSQL's binary COPY built as one numpy array, no per-row Python.

A national round writes half a million assignments. Each row has a fixed layout once its
group is known (chosen reviewers, or the reserve list), so a whole group is one structured
array: field lengths and big-endian values side by side, the ids generated as UUIDv7 in bulk
(time-ordered, so the primary key is appended to, not scattered). The rows pass through the
table's statement trigger like any other insert: the 回避 check still sees every row.
"""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import numpy as np
from numpy.typing import NDArray

_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_TRAILER = struct.pack(">h", -1)
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_VARCHAR_OID = 1043
COLUMNS = (
    "id",
    "round_id",
    "item_id",
    "expert_id",
    "run_id",
    "status",
    "affinity",
    "discipline_score",
    "keyword_score",
    "candidate_rank",
    "reserve_rank",
    "rules_checked",
    "created_at",
)


def uuid_bytes(ids: Sequence[UUID]) -> NDArray[np.uint8]:
    """Ids as an (n, 16) byte array, to be indexed by position."""
    return np.frombuffer(b"".join(u.bytes for u in ids), np.uint8).reshape(-1, 16)


def uuid7_bytes(n: int, at: datetime) -> NDArray[np.uint8]:
    """n UUIDv7 (RFC 9562) in creation order: the time, a 26-bit sequence, 48 random bits."""
    out = np.zeros((n, 16), np.uint8)
    ms = int(at.timestamp() * 1000)
    out[:, :6] = np.frombuffer(ms.to_bytes(6, "big"), np.uint8)
    seq = np.arange(n, dtype=np.uint64)
    rand_a = (seq >> np.uint64(14)) & np.uint64(0xFFF)
    out[:, 6] = (0x70 | (rand_a >> np.uint64(8))).astype(np.uint8)
    out[:, 7] = (rand_a & np.uint64(0xFF)).astype(np.uint8)
    low = seq & np.uint64(0x3FFF)
    out[:, 8] = (0x80 | (low >> np.uint64(8))).astype(np.uint8)
    out[:, 9] = (low & np.uint64(0xFF)).astype(np.uint8)
    out[:, 10:] = np.frombuffer(os.urandom(6 * n), np.uint8).reshape(n, 6)
    return out


def _text_array(values: Sequence[str]) -> bytes:
    parts = [struct.pack(">iiiii", 1, 0, _VARCHAR_OID, len(values), 1)]
    for v in values:
        raw = v.encode()
        parts.append(struct.pack(">i", len(raw)) + raw)
    return b"".join(parts)


@dataclass
class AssignmentBatch:
    """One group of rows sharing status, round, run and checked rules."""

    status: str
    item: NDArray[np.uint8]  # (n, 16) item ids
    expert: NDArray[np.uint8]  # (n, 16) expert ids
    discipline: NDArray[np.float64]
    keywords: NDArray[np.float64]
    candidate_rank: NDArray[np.int64]
    reserve_rank: NDArray[np.int64] | None = None  # reserve rows only

    def __len__(self) -> int:
        return int(self.item.shape[0])


def copy_payload(
    batches: Sequence[AssignmentBatch],
    *,
    round_id: UUID,
    run_id: UUID,
    rules_checked: Sequence[str],
    created_at: datetime,
) -> tuple[bytes, list[NDArray[np.uint8]]]:
    """The binary COPY stream of every batch, and the ids given to each batch's rows."""
    rules = _text_array(sorted(rules_checked))
    micros = int((created_at - _EPOCH).total_seconds() * 1_000_000)
    chunks = [_HEADER]
    ids: list[NDArray[np.uint8]] = []
    for batch in batches:
        n = len(batch)
        status = batch.status.encode()
        fields: list[tuple[str, Any]] = [("count", ">i2")]
        for name, dtype in (
            ("id", ("u1", 16)),
            ("round_id", ("u1", 16)),
            ("item_id", ("u1", 16)),
            ("expert_id", ("u1", 16)),
            ("run_id", ("u1", 16)),
            ("status", ("u1", len(status))),
            ("affinity", ">f8"),
            ("discipline_score", ">f8"),
            ("keyword_score", ">f8"),
            ("candidate_rank", ">i4"),
            ("reserve_rank", ">i4" if batch.reserve_rank is not None else None),
            ("rules_checked", ("u1", len(rules))),
            ("created_at", ">i8"),
        ):
            fields.append((f"{name}_len", ">i4"))
            if dtype is not None:
                fields.append((name, dtype))
        rows = np.zeros(n, np.dtype(fields))
        rows["count"] = len(COLUMNS)
        for name in ("id", "round_id", "item_id", "expert_id", "run_id"):
            rows[f"{name}_len"] = 16
        rows["status_len"] = len(status)
        for name in ("affinity", "discipline_score", "keyword_score", "created_at"):
            rows[f"{name}_len"] = 8
        rows["candidate_rank_len"] = 4
        rows["reserve_rank_len"] = 4 if batch.reserve_rank is not None else -1
        rows["rules_checked_len"] = len(rules)
        row_ids = uuid7_bytes(n, created_at)
        ids.append(row_ids)
        rows["id"] = row_ids
        rows["round_id"] = np.frombuffer(round_id.bytes, np.uint8)
        rows["run_id"] = np.frombuffer(run_id.bytes, np.uint8)
        rows["item_id"] = batch.item
        rows["expert_id"] = batch.expert
        rows["status"] = np.frombuffer(status, np.uint8)
        disc, kw = np.round(batch.discipline, 3), np.round(batch.keywords, 3)
        rows["affinity"] = np.round(disc + kw, 3)
        rows["discipline_score"] = disc
        rows["keyword_score"] = kw
        rows["candidate_rank"] = batch.candidate_rank
        if batch.reserve_rank is not None:
            rows["reserve_rank"] = batch.reserve_rank
        rows["rules_checked"] = np.frombuffer(rules, np.uint8)
        rows["created_at"] = micros
        chunks.append(rows.tobytes())
    chunks.append(_TRAILER)
    return b"".join(chunks), ids


async def copy_assignments(
    conn: Any,
    batches: Sequence[AssignmentBatch],
    *,
    round_id: UUID,
    run_id: UUID,
    rules_checked: Sequence[str],
    created_at: datetime,
) -> list[NDArray[np.uint8]]:
    """COPY the batches into ``assignments`` on an asyncpg connection (inside the caller's transaction)."""
    payload, ids = copy_payload(
        batches, round_id=round_id, run_id=run_id, rules_checked=rules_checked, created_at=created_at
    )
    if any(len(b) for b in batches):
        await conn.copy_to_table(
            "assignments", source=io.BytesIO(payload), columns=list(COLUMNS), format="binary"
        )
    return ids


_COPY_OUT_HEADER = 19  # signature, flags, header extension length (always 0 from PostgreSQL)


async def copy_out(conn: Any, query: str, fields: Sequence[tuple[str, Any]], *args: Any) -> NDArray[Any]:
    """Rows of fixed-width, non-null columns read with a binary COPY, as one structured array.

    ``fields`` names each column with its big-endian numpy type (``("u1", 16)`` for a uuid,
    ``">i4"`` for an int, ``"?"`` for a bool); the query must COALESCE away every NULL.
    """
    out = io.BytesIO()
    await conn.copy_from_query(query, *args, output=out, format="binary")
    payload = out.getvalue()
    layout: list[tuple[str, Any]] = [("_count", ">i2")]
    for name, dtype in fields:
        layout += [(f"_{name}_len", ">i4"), (name, dtype)]
    body = payload[_COPY_OUT_HEADER:-2]
    return np.frombuffer(body, np.dtype(layout))
