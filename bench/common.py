"""What the benchmarks share: servers, percentiles, a plain table."""

from __future__ import annotations

import contextlib
import math
import sys
from collections.abc import Iterator, Sequence

from shared.testing.infra import LocalServers


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty sample."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [[str(h) for h in headers]] + [[_fmt(v) for v in row] for row in rows]
    widths = [max(_width(r[i]) for r in cells) for i in range(len(headers))]
    for index, row in enumerate(cells):
        line = "  ".join(c + " " * (w - _width(c)) for c, w in zip(row, widths, strict=True))
        sys.stdout.write(line.rstrip() + "\n")
        if index == 0:
            sys.stdout.write("  ".join("-" * w for w in widths) + "\n")
    sys.stdout.flush()


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


@contextlib.contextmanager
def servers(*, durable: bool = True) -> Iterator[tuple[str, str]]:
    """PostgreSQL and NATS for a benchmark: embedded, or ``DATABASE_URL`` / ``NATS_URL``.

    Durable by default (fsync on), as in production: figures from a PostgreSQL that does not
    flush would flatter every write path.
    """
    local = LocalServers(durable=durable)
    try:
        yield local.start()
    finally:
        local.stop()
