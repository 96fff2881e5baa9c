"""``make bench`` (``python -m bench [name ...]``): run every benchmark, or those named."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time

import bench


def main(argv: list[str]) -> int:
    names = sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_"))
    wanted = [n for n in names if not argv or any(a in n for a in argv)]
    if not wanted:
        sys.stderr.write(f"no benchmark matches {argv}; have: {', '.join(names)}\n")
        return 2
    for name in wanted:
        started = time.perf_counter()
        sys.stdout.write(f"\n=== {name} ===\n")
        sys.stdout.flush()
        importlib.import_module(f"bench.{name}").main()
        sys.stdout.write(f"({name}: {time.perf_counter() - started:.1f}s)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
