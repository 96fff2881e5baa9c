"""Write deploy/images/constraints.txt: exact versions of the runtime dependency closure.

Reads the runtime requirements of pyproject.toml (without the development-stack wheels, see
runtime_requirements.py) and walks their dependencies as installed in the current environment,
so the images install what the test suite ran against. Run after changing dependencies:
``.venv/bin/python deploy/images/lock.py``.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from runtime_requirements import runtime_requirements  # noqa: E402

HEADER = (
    "# Versions the images install (the lock): the runtime dependencies of pyproject.toml and their own\n"
    "# dependencies, as tested in the development environment. Refresh with deploy/images/lock.py.\n"
)


def closure(requirements: list[str]) -> dict[str, tuple[str, str]]:
    environment = default_environment()
    todo = [Requirement(r) for r in requirements]
    seen: dict[str, tuple[str, str, set[str]]] = {}
    while todo:
        requirement = todo.pop()
        key = re.sub(r"[-_.]+", "-", requirement.name).lower()
        dist = metadata.distribution(requirement.name)
        extras = set(requirement.extras)
        if key in seen and not extras - seen[key][2]:
            continue
        seen.setdefault(key, (dist.metadata["Name"], dist.version, set()))[2].update(extras)
        for text in dist.requires or []:
            dependency = Requirement(text)
            wanted = extras or {""}
            if dependency.marker and not any(
                dependency.marker.evaluate({**environment, "extra": extra}) for extra in wanted
            ):
                continue
            todo.append(dependency)
    return {key: (name, version) for key, (name, version, _) in seen.items()}


def main() -> int:
    pyproject = HERE.parent.parent / "pyproject.toml"
    pins = closure(runtime_requirements(pyproject.read_text(encoding="utf-8")))
    lines = [f"{name}=={version}" for name, version in sorted(pins.values(), key=lambda p: p[0].lower())]
    (HERE / "constraints.txt").write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
